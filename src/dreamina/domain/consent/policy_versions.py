"""The catalogue of published privacy-policy versions (policy section 10, guarantee G11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dreamina.domain.privacy.errors import Conflict, InvalidInput, NotFound
from dreamina.domain.privacy.policy import PolicyVersion, content_sha256, current_version, split_sections
from dreamina.ports.clock import Clock
from dreamina.ports.policy import NoticeRunStatus, PolicyNoticeRun
from dreamina.ports.unit_of_work import UnitOfWorkFactory, reader_of

INITIAL_VERSION = 1
INITIAL_LAST_UPDATED = date(2026, 5, 1)  # the company document's "May 2026"; served as "Last updated: 1 May 2026"
KNOWN_FOR = timedelta(minutes=1)
"""How long one process reuses the published versions it read (:meth:`PolicyCatalogue.known_versions`)."""


@dataclass(frozen=True, slots=True)
class PolicyListing:
    versions: list[PolicyVersion]
    current_version: int | None


class PolicyCatalogue:
    """Reads and publishes policy versions. Text is immutable once published: a change is a new version.

    ``contact`` is the operator's privacy contact: every version is served with it (``PolicyVersion.served``)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, contact: str, known_for: timedelta = KNOWN_FOR) -> None:
        self._uow = uow
        self._clock = clock
        self.contact = contact
        self._known_for = known_for
        self._known: tuple[datetime, list[PolicyVersion]] | None = None  # (read at, every published version)

    @staticmethod
    def check_text(text: str) -> None:
        """A policy text is made of numbered sections ("1. Introduction" ...)."""
        if not split_sections(text):
            raise InvalidInput("the policy text has no numbered sections", field="text")

    async def ensure_published(
        self, *, version: int, text: str, last_updated: date, effective_at: datetime, notify: bool = False
    ) -> PolicyVersion:
        """Publish ``version`` unless it exists; an existing version with different text is an error, not a patch.

        With ``notify``, the same unit of work records that the version's notices are due: the notice job sends
        them (a version is never published without its notices on record, nor the other way round)."""
        self.check_text(text)
        digest = content_sha256(text)
        async with self._uow() as uow:
            existing = await uow.policies.get(version)
            if existing is not None:
                if existing.content_sha256 != digest:
                    raise Conflict(f"policy version {version} was published with different text")
                return existing
            policy = PolicyVersion(
                version=version,
                text=text,
                content_sha256=digest,
                last_updated=last_updated,
                effective_at=effective_at,
                published_at=self._clock.now(),
            )
            try:
                await uow.policies.add(policy)
                if notify:
                    await uow.notice_runs.add(
                        PolicyNoticeRun(version, NoticeRunStatus.PENDING, 0, requested_at=policy.published_at)
                    )
                await uow.commit()
                self._known = None  # this process sees its own new version at once
            except Conflict:  # published concurrently by another process: read theirs
                await uow.rollback()
                async with self._uow() as again:
                    theirs = await again.policies.get(version)
                if theirs is None or theirs.content_sha256 != digest:
                    raise
                self._known = None  # theirs, as if published here
                return theirs
            return policy

    async def current(self) -> PolicyVersion:
        """The version in effect now, from :meth:`known_versions` (what the policy page serves and a consent choice
        is recorded under)."""
        policy = current_version(await self.known_versions(), self._clock.now())
        if policy is None:
            raise NotFound("no privacy policy is in effect")
        return policy

    async def known_versions(self) -> list[PolicyVersion]:
        """Every published version as this process last read them: read again once :data:`KNOWN_FOR` has passed,
        and at once after this process published one. Off the hot paths (each consent answer, each analytics
        batch needs the version in effect), and exact about which version is in effect: versions are immutable,
        a version published through :meth:`~dreamina.domain.consent.policy_changes.PolicyChanges.publish` takes
        effect at least a day later (``DREAMINA_POLICY_NOTICE_MIN_DAYS`` is positive), so one another process
        published less than :data:`KNOWN_FOR` ago is never in effect yet, and the shipped version 1 is published
        (or found) by every process at start-up, before it serves."""
        now = self._clock.now()
        known = self._known
        if known is not None and timedelta(0) <= now - known[0] < self._known_for:
            return known[1]
        versions = await self.versions()
        self._known = (now, versions)
        return versions

    async def version(self, number: int) -> tuple[PolicyVersion, bool]:
        """One published version and whether it has taken effect: readable from the moment it is published (its
        notice links here), so subjects can read a change before it applies to them."""
        async with self._uow() as uow:
            policy = await uow.policies.get(number)
        if policy is None:
            raise NotFound(f"no privacy policy version {number} has been published")
        return policy, policy.in_effect(self._clock.now())

    async def versions(self) -> list[PolicyVersion]:
        async with reader_of(self._uow)() as uow:
            return await uow.policies.list()

    async def listing(self) -> PolicyListing:
        """Every published version, and the newest one in effect now (None before the first takes effect)."""
        versions = await self.versions()
        now = self._clock.now()
        return PolicyListing(versions, max((v.version for v in versions if v.in_effect(now)), default=None))
