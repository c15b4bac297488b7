"""The subject's own profile: reading it, correcting it (every change audited as a rectification, a birth date
below the minimum age filed as a child report), and their choice of how long generations are kept. The email has its
own confirmed change (:mod:`~dreamina.domain.identity.email_changes`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from dreamina.domain.identity.accounts import Principal, clean_display_name
from dreamina.domain.identity.age_gate import check_age
from dreamina.domain.identity.child_report_filing import ReportFiling
from dreamina.domain.privacy.errors import (
    AgeRequirementNotMet,
    DomainError,
    InvalidInput,
    KeyDestroyed,
    NotFound,
)
from dreamina.domain.privacy.jurisdictions import JurisdictionTable
from dreamina.domain.privacy.keyring import Keyrings, SubjectKeyring
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.child_reports import GenerationStopper, ReportSource
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account, AccountStatus
from dreamina.ports.keys import KeyVault
from dreamina.ports.unit_of_work import UnitOfWorkFactory, reader_of

CONTENT_RETENTION_DAYS = (1, 3650)  # the range a subject may choose for the automatic deletion of generations


@dataclass(frozen=True, slots=True)
class Profile:
    id: UUID
    email: str
    display_name: str | None
    birth_date: date
    country: str
    region: str | None
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    content_retention_days: int | None = None
    email_verified: bool = False


class Profiles:
    """The subject's own profile. Each method is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        keyrings: Keyrings,
        clock: Clock,
        jurisdictions: JurisdictionTable,
        generations: GenerationStopper,
    ) -> None:
        self._uow = uow
        self._read = reader_of(uow)  # the read-only use cases' units of work
        self._vault = vault
        self._keyrings = keyrings
        self._clock = clock
        self._jurisdictions = jurisdictions
        self._generations = generations
        self._filing = ReportFiling(vault, keyrings.cipher)

    async def profile(self, account_id: UUID) -> Profile:
        async with self._read() as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                raise NotFound("account not found")
            return await self._profile(self._keyrings(uow.subject_keys), account)

    async def update_profile(self, principal: Principal, changes: dict[str, str | None]) -> Profile:
        """Correct the subject's own display name or birth date; every change is audited as a rectification (field
        names only). The email is not changed here: it changes only once the new address confirms
        (:class:`~dreamina.domain.identity.email_changes.EmailChanges`).

        A birth date corrected to below the minimum age of the subject's jurisdiction is stored, and the account is
        put under age review exactly as on a child report, with a report the system raises for staff to review (G8).
        """
        new_name, new_birth = check_changes(changes)
        underage = False
        async with self._uow() as uow:
            account = await uow.accounts.get(principal.account_id)
            if account is None:
                raise NotFound("account not found")
            keyring = self._keyrings(uow.subject_keys)
            now = self._clock.now()
            changed: list[str] = []
            if "display_name" in changes:
                current_name = (
                    await keyring.open(account.id, "display_name", account.display_name_ciphertext)
                    if account.display_name_ciphertext
                    else None
                )
                if new_name != current_name:
                    sealed_name = await keyring.seal(account.id, "display_name", new_name) if new_name else None
                    account.correct_display_name(sealed_name, now)
                    changed.append("display_name")
            if new_birth is not None:
                underage = self._below_minimum_age(new_birth, account)
                current_birth = await keyring.open(account.id, "birth_date", account.birth_date_ciphertext)
                if new_birth.isoformat() != current_birth:
                    sealed_birth = await keyring.seal(account.id, "birth_date", new_birth.isoformat())
                    account.correct_birth_date(sealed_birth, now)
                    changed.append("birth_date")
                else:
                    underage = False  # nothing was corrected: no new report
            if changed:
                await uow.accounts.update(account)
                await uow.audit.append(
                    AuditEvent(
                        id=uuid.uuid4(),
                        subject_id=account.id,
                        actor_kind=ActorKind.SUBJECT,
                        actor_id=account.id,
                        action="rectification",
                        fields=tuple(changed),
                        reason="changed by the subject through their profile",
                        occurred_at=now,
                    )
                )
                if underage:
                    await self._filing.file(uow, account, ReportSource.BIRTH_DATE, now)
                await uow.commit()
            profile = await self._profile(keyring, account)
        if underage:
            await self._generations.stop_all(account.id)
        return profile

    def _below_minimum_age(self, birth_date: date, account: Account) -> bool:
        """The age gate's answer for a corrected birth date; impossible dates are refused like at sign-up."""
        try:
            check_age(birth_date, self._clock.now().date(), account.country, account.region, self._jurisdictions)
        except AgeRequirementNotMet:
            return True
        return False

    async def set_content_retention(self, principal: Principal, days: int | None) -> Profile:
        """The subject's choice of how long generations are kept: ``None`` until they delete them, else deleted
        automatically after ``days`` (enforced by the generation module's retention task). Audited by name."""
        days = check_content_retention(days)
        async with self._uow() as uow:
            account = await uow.accounts.get(principal.account_id)
            if account is None:
                raise NotFound("account not found")
            if account.content_retention_days != days:
                now = self._clock.now()
                account.choose_content_retention(days, now)
                await uow.accounts.update(account)
                await uow.audit.append(
                    AuditEvent(
                        id=uuid.uuid4(),
                        subject_id=account.id,
                        actor_kind=ActorKind.SUBJECT,
                        actor_id=account.id,
                        action="setting_changed",
                        fields=("content_retention_days",),
                        reason="changed by the subject through their profile",
                        occurred_at=now,
                    )
                )
                await uow.commit()
            return await self._profile(self._keyrings(uow.subject_keys), account)

    async def _profile(self, keyring: SubjectKeyring, account: Account) -> Profile:
        try:
            email = await keyring.open(account.id, "email", account.email_ciphertext)
            name = (
                await keyring.open(account.id, "display_name", account.display_name_ciphertext)
                if account.display_name_ciphertext
                else None
            )
            birth = date.fromisoformat(await keyring.open(account.id, "birth_date", account.birth_date_ciphertext))
        except KeyDestroyed:
            raise
        except ValueError as exc:  # tampered ciphertext: fail closed, never serve garbage
            raise DomainError("stored data failed its integrity check") from exc
        return Profile(
            id=account.id,
            email=email,
            display_name=name,
            birth_date=birth,
            country=account.country,
            region=account.region,
            status=account.status,
            created_at=account.created_at,
            updated_at=account.updated_at,
            content_retention_days=account.content_retention_days,
            email_verified=account.email_verified,
        )


def check_changes(changes: Mapping[str, str | None]) -> tuple[str | None, date | None]:
    """The display name and birth date of a profile correction, checked before anything is written; any other
    field (the email included: it has its own confirmed change) is refused."""
    unknown = set(changes) - {"display_name", "birth_date"}
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))} here", field=sorted(unknown)[0])
    new_name = clean_display_name(changes["display_name"]) if "display_name" in changes else None
    new_birth = None
    if "birth_date" in changes:
        if changes["birth_date"] is None:
            raise InvalidInput("birth_date cannot be removed", field="birth_date")
        new_birth = parse_birth_date(changes["birth_date"])
    return new_name, new_birth


def check_content_retention(days: object) -> int | None:
    """``None`` (keep until deleted) or a whole number of days within :data:`CONTENT_RETENTION_DAYS`."""
    low, high = CONTENT_RETENTION_DAYS
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise InvalidInput(
            f"content_retention_days must be null or a whole number from {low} to {high}",
            field="content_retention_days",
        )
    return days


def parse_birth_date(value: object) -> date:
    """A birth date given as a date or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput("birth_date must be a date (YYYY-MM-DD)", field="birth_date")
