"""Policy changes (section 10): publish a version, notify every account, acceptance by continued use.

Publishing records that the version's notices are due (a :class:`~dreamina.ports.policy.PolicyNoticeRun`, in the
publishing unit of work) and returns at once; :meth:`PolicyChanges.send_due_notices` is the job that sends them, run
by the embedded process's periodic loop and by ``dreamina privacy-worker``. It works in batches, each one queueing
its mail, recording its notices and counting them in one unit of work, so a run killed anywhere resumes where it
stopped: nobody is skipped and nobody is mailed twice (a subject has one notice per version, a unique row).

A notified subject whose first authenticated request comes after the new version took effect is recorded as
accepting it with method ``continued_use`` (and their cookie/analytics choices are carried to the new version
with the same method, as the notice tells them). A subject who was never notified is not deemed to accept.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from dreamina.domain.consent.policy_versions import PolicyCatalogue
from dreamina.domain.privacy.errors import Conflict, InvalidInput, KeyDestroyed, NotFound
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.policy import PolicyVersion, content_sha256, current_version
from dreamina.ports.clock import Clock
from dreamina.ports.consent import ConsentMethod, ConsentRecord, PolicyNotice
from dreamina.ports.mail import MailMessage
from dreamina.ports.policy import AcceptanceMethod, NoticeRunStatus, PolicyAcceptance, PolicyNoticeRun
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

MAX_POLICY_CHARS = 200_000
NOTICE_BATCH = 200
RUNS_PER_PASS = 10
MIN_NOTICE = timedelta(days=30)  # how long before a new version takes effect its notices must go out
QUIET_FOR = timedelta(minutes=10)  # how long a subject found with nothing due is not looked up again
MAX_QUIET = 100_000  # subjects remembered per process (least recently seen forgotten first)


@dataclass(frozen=True, slots=True)
class PolicyStatus:
    current: PolicyVersion
    acceptances: list[PolicyAcceptance]
    notices: list[PolicyNotice]

    @property
    def accepted_current(self) -> bool:
        return any(a.policy_version == self.current.version for a in self.acceptances)


@dataclass(frozen=True, slots=True)
class PolicyPreview:
    """What publishing a text now would do, checked as publishing checks it, without publishing anything.

    ``candidate`` is the version it would be (its number, hash and date; not stored); ``current`` the version in
    effect now (None before the first); ``minimum_notice`` the notice the rule requires, ``notice`` what the chosen
    date gives, and ``notices_from`` when the notice job starts mailing (at once, on publishing)."""

    candidate: PolicyVersion
    current: PolicyVersion | None
    minimum_notice: timedelta
    earliest_effective_at: datetime
    notice: timedelta
    notices_from: datetime

    @property
    def notice_days(self) -> int:
        return self.notice.days

    @property
    def minimum_notice_days(self) -> int:
        return self.minimum_notice.days


class PolicyChanges:
    """Use cases of a policy change; each commits its own units of work."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        catalogue: PolicyCatalogue,
        mail: MailDelivery,
        keyrings: Keyrings,
        clock: Clock,
        policy_url: str,
        batch_size: int = NOTICE_BATCH,
        min_notice: timedelta = MIN_NOTICE,
    ) -> None:
        self._uow = uow
        self._catalogue = catalogue
        self._mail = mail
        self._keyrings = keyrings
        self._clock = clock
        self._policy_url = policy_url
        self._batch = batch_size
        self._min_notice = min_notice
        self._quiet: OrderedDict[uuid.UUID, tuple[int, datetime]] = OrderedDict()  # subject -> (version, checked)

    @property
    def minimum_notice(self) -> timedelta:
        """How long before a new version takes effect its notices must go out (the rule ``publish`` enforces)."""
        return self._min_notice

    async def publish(self, text: str, effective_at: datetime) -> PolicyVersion:
        """Publish the next version; it takes effect at ``effective_at`` (not in the past), dated from it."""
        self._check(text, effective_at, self._clock.now())
        versions = await self._catalogue.versions()
        number = max((v.version for v in versions), default=0) + 1
        return await self._catalogue.ensure_published(
            version=number, text=text, last_updated=effective_at.date(), effective_at=effective_at, notify=True
        )

    def _check(self, text: str, effective_at: datetime, now: datetime) -> None:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_POLICY_CHARS or "\x00" in text:
            raise InvalidInput(f"text must be 1 to {MAX_POLICY_CHARS} characters without NUL", field="text")
        if effective_at.tzinfo is None:
            raise InvalidInput("effective_at needs a time zone", field="effective_at")
        if effective_at < now + self._min_notice:
            days = self._min_notice / timedelta(days=1)
            raise InvalidInput(f"effective_at must leave subjects at least {days:g} days' notice", field="effective_at")

    async def preview(self, text: str, effective_at: datetime) -> PolicyPreview:
        """What :meth:`publish` would publish now, refused for the same reasons (and a text without numbered
        sections, which the catalogue refuses); nothing is stored."""
        now = self._clock.now()
        self._check(text, effective_at, now)
        PolicyCatalogue.check_text(text)
        versions = await self._catalogue.versions()
        candidate = PolicyVersion(
            version=max((v.version for v in versions), default=0) + 1,
            text=text,
            content_sha256=content_sha256(text),
            last_updated=effective_at.date(),
            effective_at=effective_at,
            published_at=now,
        )
        return PolicyPreview(
            candidate=candidate,
            current=current_version(versions, now),
            minimum_notice=self._min_notice,
            earliest_effective_at=now + self._min_notice,
            notice=effective_at - now,
            notices_from=now,
        )

    async def notice_run(self, version: int) -> PolicyNoticeRun:
        """How far the notices of ``version`` have got (status ``none`` if it was published without; ``NotFound`` if
        no such version was published)."""
        async with self._uow() as uow:
            run = await uow.notice_runs.get(version)
            policy = None if run is not None else await uow.policies.get(version)
        if run is not None:
            return run
        if policy is None:
            raise NotFound(f"no policy version {version}")
        return PolicyNoticeRun(version, NoticeRunStatus.NONE, 0, requested_at=policy.published_at)

    async def send_due_notices(self) -> int:
        """The notice job: finish every run not done yet, oldest version first; returns how many notices it sent."""
        async with self._uow() as uow:
            runs = await uow.notice_runs.unfinished(RUNS_PER_PASS)
        sent = 0
        for run in runs:
            async with self._uow() as uow:
                run.start(self._clock.now())
                await uow.notice_runs.update(run)
                await uow.commit()
            sent += await self.send_notices(run.policy_version)
            async with self._uow() as uow:
                run.finish(self._clock.now())
                await uow.notice_runs.update(run)
                await uow.commit()
        return sent

    async def send_notices(self, version: int) -> int:
        """Notify every active account not yet notified of ``version``; resumable, returns how many were sent.

        Each batch's mail is queued in the unit of work that records its notices (and counts them in the version's
        run): a notice is recorded exactly when its mail is on its way, never skipped and never sent twice. A batch
        that lost a race with another sender (the same subject's notice) is dropped whole and the next one re-read.
        """
        async with self._uow() as uow:
            policy = await uow.policies.get(version)
        if policy is None:
            raise NotFound(f"no policy version {version}")
        sent = 0
        while True:
            async with self._uow() as uow:
                subject_ids = await uow.policy_notices.subjects_without_notice(version, self._batch)
                recipients = await self._addresses(uow, subject_ids)
            if not subject_ids:
                return sent
            try:
                await self._send_batch(policy, subject_ids, recipients)
            except Conflict:  # another sender notified some of them first: read the next batch afresh
                continue
            await self._mail.flush()
            sent += len(recipients)

    async def _send_batch(
        self, policy: PolicyVersion, subject_ids: list[uuid.UUID], recipients: dict[uuid.UUID, str]
    ) -> None:
        version = policy.version
        now = self._clock.now()
        async with self._uow() as uow:
            for subject_id, address in recipients.items():
                await self._mail.queue(uow, self._notice_mail(address, policy), subject_id=subject_id)
            for subject_id in subject_ids:
                await uow.policy_notices.add(
                    PolicyNotice(
                        id=uuid.uuid4(),
                        subject_id=subject_id,
                        policy_version=version,
                        effective_at=policy.effective_at,
                        notified_at=now,
                        # an account whose address could not be read got no mail: never deemed to accept
                        resolved_at=None if subject_id in recipients else now,
                    )
                )
            await uow.notice_runs.count_sent(version, len(recipients))
            await uow.commit()

    async def _addresses(self, uow: UnitOfWork, subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        keyring = self._keyrings(uow.subject_keys)
        found: dict[uuid.UUID, str] = {}
        for subject_id in subject_ids:
            account = await uow.accounts.get(subject_id)
            if account is None:
                continue
            try:
                found[subject_id] = await keyring.open(subject_id, "email", account.email_ciphertext)
            except (KeyDestroyed, ValueError):
                continue
        return found

    def _notice_mail(self, address: str, policy: PolicyVersion) -> MailMessage:
        when = policy.effective_at.strftime("%d %B %Y")
        return MailMessage(
            to=address,
            subject=f"We are updating our privacy policy (version {policy.version}, effective {when})",
            body=(
                f"Our privacy policy changes on {when}. You can read the new version (version {policy.version}, "
                f"SHA-256 {policy.content_sha256}) at {self._policy_url}/versions/{policy.version}.\n\n"
                f"If you keep using Dreamina after {when}, you accept the new version; your cookie and analytics "
                "choices stay as you set them and you can change them, object to processing or delete your "
                "account at any time.\n"
            ),
            kind="policy_change",
        )

    async def on_authenticated(self, subject_id: uuid.UUID) -> int:
        """Record continued-use acceptance of every notified version now in effect; returns how many.

        Off the hot path: a subject found with nothing due under the version now in effect is not looked up again
        in this process until another version takes effect (or ``QUIET_FOR`` has passed, for a notice recorded
        late), so an ordinary request costs no query here (the versions are the catalogue's, read once a minute)."""
        now = self._clock.now()
        in_effect = await self._version_in_effect(now)
        quiet = self._quiet.get(subject_id)
        if quiet is not None and quiet[0] == in_effect and timedelta(0) <= now - quiet[1] < QUIET_FOR:
            return 0
        accepted = await self._accept_due(subject_id, now)
        self._quiet[subject_id] = (in_effect, now)
        self._quiet.move_to_end(subject_id)
        while len(self._quiet) > MAX_QUIET:
            self._quiet.popitem(last=False)
        return accepted

    async def _version_in_effect(self, now: datetime) -> int:
        versions = await self._catalogue.known_versions()
        return max((v.version for v in versions if v.effective_at <= now), default=0)

    async def _accept_due(self, subject_id: uuid.UUID, now: datetime) -> int:
        async with self._uow() as uow:
            due = await uow.policy_notices.due_for_subject(subject_id, now)
            if not due:
                return 0
            accepted = 0
            for notice in due:
                policy = await uow.policies.get(notice.policy_version)
                if policy is None or not await uow.policy_notices.resolve(notice.id, now):
                    continue
                await uow.acceptances.add(
                    PolicyAcceptance(
                        id=uuid.uuid4(),
                        subject_id=subject_id,
                        policy_version=policy.version,
                        content_sha256=policy.content_sha256,
                        method=AcceptanceMethod.CONTINUED_USE,
                        accepted_at=now,
                    )
                )
                await self._carry_consent(uow, subject_id, policy, now)
                accepted += 1
            await uow.commit()
        return accepted

    async def _carry_consent(
        self, uow: UnitOfWork, subject_id: uuid.UUID, policy: PolicyVersion, now: datetime
    ) -> None:
        latest = await uow.consent_records.latest_for_subject(subject_id)
        if latest is None or latest.policy_version >= policy.version:
            return
        await uow.consent_records.add(
            ConsentRecord(
                id=uuid.uuid4(),
                subject_id=subject_id,
                device_key=None,
                functional=latest.functional,
                analytics=latest.analytics,
                marketing=latest.marketing and not latest.gpc,
                sale_share_opt_out=latest.sale_share_opt_out,
                gpc=latest.gpc,
                method=ConsentMethod.CONTINUED_USE,
                policy_version=policy.version,
                content_sha256=policy.content_sha256,
                recorded_at=now,
            )
        )

    async def accept(self, subject_id: uuid.UUID, version: int) -> PolicyAcceptance:
        """Explicit acceptance of the version in effect."""
        now = self._clock.now()
        async with self._uow() as uow:
            policy = current_version(await uow.policies.list(), now)
            if policy is None or policy.version != version:
                raise InvalidInput("only the version in effect can be accepted", field="version")
            acceptance = PolicyAcceptance(
                id=uuid.uuid4(),
                subject_id=subject_id,
                policy_version=policy.version,
                content_sha256=policy.content_sha256,
                method=AcceptanceMethod.EXPLICIT,
                accepted_at=now,
            )
            await uow.acceptances.add(acceptance)
            for notice in await uow.policy_notices.for_subject(subject_id):
                if notice.policy_version == version and notice.resolved_at is None:
                    await uow.policy_notices.resolve(notice.id, now)
            await uow.commit()
        return acceptance

    async def status(self, subject_id: uuid.UUID) -> PolicyStatus:
        current = await self._catalogue.current()
        async with self._uow() as uow:
            return PolicyStatus(
                current=current,
                acceptances=await uow.acceptances.list_for_subject(subject_id),
                notices=await uow.policy_notices.for_subject(subject_id),
            )
