"""Consent records (policy section 4, G3, G11), Global Privacy Control and objections (section 7).

A requester is a signed-in subject, an anonymous device (known by a random first-party cookie), or both. Every
choice is appended to the history of each owner the requester has, under the current policy version; nothing
is ever updated in place. A GPC signal is recorded once per owner and keeps marketing off and sale/share opted
out for good: later choices, banner defaults included, cannot turn them back on.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dreamina.domain.consent.policy_versions import PolicyCatalogue
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.improvement import objection_forces_improvement_off
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.consent import OBJECTABLE_PURPOSES, ConsentMethod, ConsentRecord, Objection
from dreamina.ports.keys import KeyVault
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory, reader_of

DEVICE_INDEX = "consent-device"
CHOICE_METHODS = frozenset({ConsentMethod.BANNER, ConsentMethod.SETTINGS, ConsentMethod.API})
MIN_STAFF_REASON = 10
HISTORY_PAGE = 20  # records of history shown with the choice in force; the rest is behind a cursor
MAX_HISTORY_PAGE = 100
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def new_device_id() -> str:
    """A fresh random device id for the first-party cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def valid_device_id(value: str | None) -> str | None:
    """``value`` if it has the shape of an id we issued, else None (a forged or mangled cookie is ignored)."""
    return value if value is not None and _DEVICE_ID.fullmatch(value) else None


@dataclass(frozen=True, slots=True)
class Choices:
    functional: bool = False
    analytics: bool = False
    marketing: bool = False


@dataclass(frozen=True, slots=True)
class Requester:
    """Who a request speaks for: a subject, a device (its raw cookie value), or both."""

    subject_id: UUID | None = None
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """Up to one page of a consent history, newest first; ``next_before`` is the cursor of the older page."""

    records: list[ConsentRecord]
    next_before: UUID | None


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_HISTORY_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_HISTORY_PAGE}", field="limit")
    return limit


def _paged(records: list[ConsentRecord], limit: int) -> HistoryPage:
    """``records`` was read with ``limit + 1``: the extra record only says that an older page exists."""
    shown = records[:limit]
    return HistoryPage(shown, shown[-1].id if len(records) > limit else None)


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The choice in force for a requester. Without any record: nothing but the strictly necessary."""

    choices: Choices
    sale_share_opt_out: bool
    gpc: bool
    method: ConsentMethod | None
    policy_version: int | None
    content_sha256: str | None
    recorded_at: datetime | None
    current_policy_version: int

    @property
    def under_current_policy(self) -> bool:
        return self.policy_version == self.current_policy_version

    @property
    def analytics_allowed(self) -> bool:
        """G3: analytics needs a yes given under the policy version in effect now."""
        return self.choices.analytics and self.under_current_policy


def gpc_signalled(values: list[str]) -> bool:
    """True if any ``Sec-GPC`` field value is exactly ``1`` (spec: the only valid value; others are ignored)."""
    return any(part.strip(" \t") == "1" for value in values for part in value.split(","))


class ConsentRegistry:
    """Use cases over the consent history. Each method is one unit of work that commits itself."""

    def __init__(self, uow: UnitOfWorkFactory, vault: KeyVault, clock: Clock, policies: PolicyCatalogue) -> None:
        """``policies``: where the version in effect comes from (its process-wide list, no query per choice)."""
        self._uow = uow
        self._read = reader_of(uow)  # the read-only use cases' units of work
        self._vault = vault
        self._clock = clock
        self._policies = policies

    def device_key(self, device_id: str) -> str:
        """What is stored for a device: a keyed hash, so a leaked table cannot be replayed as cookies."""
        return self._vault.blind_index(DEVICE_INDEX, device_id)

    async def _latest(self, uow: UnitOfWork, requester: Requester) -> ConsentRecord | None:
        if requester.subject_id is not None:
            return await uow.consent_records.latest_for_subject(requester.subject_id)
        if requester.device_id is not None:
            return await uow.consent_records.latest_for_device(self.device_key(requester.device_id))
        return None

    def _owners(self, requester: Requester) -> list[tuple[UUID | None, str | None]]:
        owners: list[tuple[UUID | None, str | None]] = []
        if requester.subject_id is not None:
            owners.append((requester.subject_id, None))
        if requester.device_id is not None:
            owners.append((None, self.device_key(requester.device_id)))
        if not owners:
            raise InvalidInput("a consent choice needs a signed-in subject or a device")
        return owners

    async def _latest_of(
        self, uow: UnitOfWork, subject_id: UUID | None, device_key: str | None
    ) -> ConsentRecord | None:
        if subject_id is not None:
            return await uow.consent_records.latest_for_subject(subject_id)
        assert device_key is not None
        return await uow.consent_records.latest_for_device(device_key)

    async def state(self, requester: Requester) -> ConsentState:
        """The choice in force: the subject's when signed in, else the device's."""
        async with self._read() as uow:
            return await self.state_in(uow, requester)

    async def state_in(self, uow: UnitOfWork, requester: Requester) -> ConsentState:
        """:meth:`state`, read in the caller's unit of work (with the other checks it makes before processing)."""
        return await self.state_of(await self._latest(uow, requester))

    async def policy_version(self) -> int:
        """The version of the policy in effect: what a choice is recorded under (the process-wide list, no query)."""
        return (await self._policies.current()).version

    async def state_of(self, latest: ConsentRecord | None) -> ConsentState:
        """The choice in force given the requester's latest record (read by the caller, with its other checks)."""
        policy = await self._policies.current()
        return _state(latest, policy.version)

    async def history(self, requester: Requester, limit: int = HISTORY_PAGE, before: UUID | None = None) -> HistoryPage:
        """One page of the requester's history, newest first (the subject's when signed in, else the device's)."""
        limit = _page_size(limit)
        async with self._read() as uow:
            return await self._page(uow, requester, limit, before)

    async def _page(self, uow: UnitOfWork, requester: Requester, limit: int, before: UUID | None) -> HistoryPage:
        return _paged(await self._newest(uow, requester, limit + 1, before), limit)

    async def _newest(
        self, uow: UnitOfWork, requester: Requester, count: int, before: UUID | None
    ) -> list[ConsentRecord]:
        """Up to ``count`` records of the requester's history (its first owner's), newest first."""
        if requester.subject_id is not None:
            return await uow.consent_records.page_for_subject(requester.subject_id, count, before)
        if requester.device_id is not None:
            return await uow.consent_records.page_for_device(self.device_key(requester.device_id), count, before)
        return []

    async def choose(
        self, requester: Requester, choices: Choices, method: ConsentMethod
    ) -> tuple[ConsentState, HistoryPage]:
        """Record a choice (given or withdrawn alike) for every owner of the requester; returns the choice in force
        and the newest page of the requester's history with it, read in the same unit of work before it commits
        (what :meth:`history` would answer right after)."""
        if method not in CHOICE_METHODS:
            raise InvalidInput("method must be banner, settings or api", field="method")
        now = self._clock.now()
        recorded: list[ConsentRecord] = []
        async with self._uow() as uow:
            policy = await self._policies.current()
            owners = self._owners(requester)
            # The requester's history is its first owner's. Its newest page as it stands gives that owner's latest
            # record, and with the new record in front it is the page a read after the insert would give (records
            # are ordered by when they were appended): one read where there were two. Signed in on a device, the
            # device's latest record comes with that page (one read for both owners).
            device: ConsentRecord | None = None  # the second owner's (the device's) latest record
            if len(owners) == 2:  # the subject, then the device
                subject, device_key = owners[0][0], owners[1][1]
                assert subject is not None and device_key is not None
                shown, device = await uow.consent_records.newest_with_device(subject, HISTORY_PAGE, device_key)
            else:
                shown = await self._newest(uow, requester, HISTORY_PAGE, None)
            for subject_id, device_key in owners:
                latest = device if recorded else shown[0] if shown else None
                gpc = latest is not None and latest.gpc
                recorded.append(
                    ConsentRecord(
                        id=uuid.uuid4(),
                        subject_id=subject_id,
                        device_key=device_key,
                        functional=choices.functional,
                        analytics=choices.analytics,
                        marketing=choices.marketing and not gpc,
                        sale_share_opt_out=gpc or (latest is not None and latest.sale_share_opt_out),
                        gpc=gpc,
                        method=method,
                        policy_version=policy.version,
                        content_sha256=policy.content_sha256,
                        recorded_at=now,
                    )
                )
            await uow.consent_records.add_many(recorded)
            await uow.commit()
        # The requester's choice in force is the record just made for its first owner (the subject when signed in,
        # else the device): what ``_latest`` would read back, without reading it.
        return _state(recorded[0], policy.version), _paged([recorded[0], *shown], HISTORY_PAGE)

    async def observe_gpc(self, requester: Requester) -> int:
        """Record a GPC opt-out once per owner that has not got one yet; returns how many records were added."""
        now = self._clock.now()
        added = 0
        async with self._uow() as uow:
            policy = await self._policies.current()
            for subject_id, device_key in self._owners(requester):
                latest = await self._latest_of(uow, subject_id, device_key)
                if latest is not None and latest.gpc:
                    continue
                # Choices made under an older policy do not carry into the new version on the back of a GPC record.
                kept = latest if latest is not None and latest.policy_version == policy.version else None
                await uow.consent_records.add(
                    ConsentRecord(
                        id=uuid.uuid4(),
                        subject_id=subject_id,
                        device_key=device_key,
                        functional=kept.functional if kept else False,
                        analytics=kept.analytics if kept else False,
                        marketing=False,
                        sale_share_opt_out=True,
                        gpc=True,
                        method=ConsentMethod.GPC,
                        policy_version=policy.version,
                        content_sha256=policy.content_sha256,
                        recorded_at=now,
                    )
                )
                added += 1
            if added:
                await uow.commit()
        return added

    async def adopt_device_choices(self, subject_id: UUID, device_id: str) -> bool:
        """On sign-in from a device: its choice carries over to the account if newer (and its GPC always does)."""
        device_key = self.device_key(device_id)
        now = self._clock.now()
        async with self._uow() as uow:
            device = await uow.consent_records.latest_for_device(device_key)
            if device is None:
                return False
            account = await uow.consent_records.latest_for_subject(subject_id)
            account_gpc = account is not None and account.gpc
            if account is None or device.recorded_at > account.recorded_at:
                base = device
            elif device.gpc and not account_gpc:
                base = account
            else:
                return False
            gpc = device.gpc or account_gpc
            await uow.consent_records.add(
                ConsentRecord(
                    id=uuid.uuid4(),
                    subject_id=subject_id,
                    device_key=None,
                    functional=base.functional,
                    analytics=base.analytics,
                    marketing=base.marketing and not gpc,
                    sale_share_opt_out=base.sale_share_opt_out or gpc,
                    gpc=gpc,
                    method=base.method if base is device else ConsentMethod.GPC,
                    # G11: the copy names the version the choice was given under, not the one in force today
                    policy_version=base.policy_version,
                    content_sha256=base.content_sha256,
                    recorded_at=now,
                )
            )
            await uow.commit()
        return True

    async def staff_history(
        self, staff_id: UUID, subject_id: UUID, reason: str, limit: int = MAX_HISTORY_PAGE, before: UUID | None = None
    ) -> HistoryPage:
        """A staff member reads a page of a subject's consent history; each read is audited with its reason (G12)."""
        limit = _page_size(limit)
        reason = (reason or "").strip()
        if len(reason) < MIN_STAFF_REASON or "\x00" in reason or len(reason) > 500:
            raise InvalidInput(f"a reason of {MIN_STAFF_REASON} to 500 characters is required", field="reason")
        async with self._uow() as uow:
            if await uow.accounts.get(subject_id) is None:
                raise NotFound("no such subject")
            records = await uow.consent_records.page_for_subject(subject_id, limit + 1, before)
            await uow.audit.append(
                AuditEvent(
                    id=uuid.uuid4(),
                    subject_id=subject_id,
                    actor_kind=ActorKind.STAFF,
                    actor_id=staff_id,
                    action="staff_read",
                    fields=("consent_records",),
                    reason=reason,
                    occurred_at=self._clock.now(),
                )
            )
            await uow.commit()
        return _paged(records, limit)


def _state(record: ConsentRecord | None, current: int) -> ConsentState:
    if record is None:
        return ConsentState(Choices(), False, False, None, None, None, None, current)
    return ConsentState(
        choices=Choices(record.functional, record.analytics, record.marketing),
        sale_share_opt_out=record.sale_share_opt_out,
        gpc=record.gpc,
        method=record.method,
        policy_version=record.policy_version,
        content_sha256=record.content_sha256,
        recorded_at=record.recorded_at,
        current_policy_version=current,
    )


class Objections:
    """The subject's objections (Art. 21 GDPR) and the register every processing path consults."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._read = reader_of(uow)  # the checks on every processing path read in read-only units of work
        self._clock = clock

    async def set(self, subject_id: UUID, purpose: str, objected: bool) -> list[Objection]:
        try:
            chosen = Purpose(purpose)
        except ValueError:
            chosen = None
        if chosen not in OBJECTABLE_PURPOSES:
            allowed = ", ".join(p.value for p in OBJECTABLE_PURPOSES)
            raise InvalidInput(f"purpose must be one of {allowed}", field="purpose")
        assert chosen is not None
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.objections.put(Objection(subject_id, chosen, objected, now))
            if objected:
                await objection_forces_improvement_off(uow, subject_id, chosen, now)
            await uow.commit()
            return await uow.objections.for_subject(subject_id)

    async def list(self, subject_id: UUID) -> list[Objection]:
        async with self._read() as uow:
            return await uow.objections.for_subject(subject_id)

    async def objects_to(self, subject_id: UUID, purpose: Purpose) -> bool:
        """:class:`~dreamina.ports.consent.ObjectionRegister`: reads committed state, so objections act at once."""
        async with self._read() as uow:
            return await uow.objections.objects_to(subject_id, purpose)
