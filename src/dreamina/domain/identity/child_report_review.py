"""The staff side of the children's flow (policy section 9, G8): the queue of open reports, a report's view (with
the holder's statement), and the decisions. A confirmation erases the account at once through the data-rights saga;
a dismissal lifts the age review, but never while the stored birth date is below the minimum age (409
``birth_date_below_minimum_age``: the holder corrects it first, or staff confirm). Reports about staff accounts are
escalated: only admins see and decide them, and nobody sees or decides a report about themselves. Every list, view
and decision is audited; the reporters are told the outcome, never anything about the account.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from dreamina.domain.identity.age_gate import below_minimum_age
from dreamina.domain.identity.child_report_filing import WRITE_ATTEMPTS, ChildReportRules, ReportFiling
from dreamina.domain.identity.child_report_statement import STATEMENT_FIELD
from dreamina.domain.privacy.errors import Conflict, KeyDestroyed, NotFound, StoreBusy
from dreamina.domain.privacy.jurisdictions import JurisdictionTable
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.validation import clean_text
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.child_reports import ChildErasure, ChildReport, ReportStatus
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.mail import MailMessage
from dreamina.ports.staff import StaffRole
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

MAX_REASON = 500
T = TypeVar("T")


class ReportClosed(Conflict):
    """Staff acted on a report that is no longer open."""

    code = "child_report_closed"
    title = "The report is already closed"


class BirthDateBelowMinimum(Conflict):
    """A dismissal would give back an account whose stored birth date is still below the minimum age (finding 9):
    the holder corrects the birth date first (their statement can explain), or staff confirm the report."""

    code = "birth_date_below_minimum_age"
    title = "The stored birth date is below the minimum age"


@dataclass(frozen=True, slots=True)
class Reporter:
    contact: str
    relationship: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ReportView:
    """A report as staff see it when they open it (audited): the reporters and what they wrote."""

    report: ChildReport
    reporters: list[Reporter]
    details: list[str]
    statement: str | None = None  # the holder's answer to the review


async def _until_not_busy(work: Callable[[], Awaitable[T]]) -> T:
    """Run a unit of work again while the store says it is busy (SQLite refusing a write after a stale read): for
    the steps after a decision, which must not be lost once the decision is taken."""
    for attempt in range(WRITE_ATTEMPTS - 1):
        try:
            return await work()
        except StoreBusy:
            await asyncio.sleep(0.02 * (attempt + 1))
    return await work()


ACTED = "Thank you for your report. We reviewed it and acted on it: the account is being removed.\n"
REVIEWED = "Thank you for your report. We reviewed it carefully.\n"
REVIEW_LIFTED = "Our staff reviewed your Dreamina account and closed the age review: you can use every feature again.\n"


class ChildReportReview:
    """The staff queue, confirmation (erasure) and dismissal. Each method is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        cipher: FieldCipher,
        clock: Clock,
        mail: MailDelivery,
        erasure: ChildErasure,
        keyrings: Keyrings,
        jurisdictions: JurisdictionTable,
        rules: ChildReportRules | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._mail = mail
        self._erasure = erasure
        self._keyrings = keyrings
        self._jurisdictions = jurisdictions
        self._filing = ReportFiling(vault, cipher)
        self.rules = rules or ChildReportRules()

    async def queue(self, staff_id: UUID) -> list[ChildReport]:
        """Open reports, oldest first (reports about staff for admins only, never one about the viewer); every
        report listed is recorded as a staff view."""
        now = self._clock.now()
        async with self._uow() as uow:
            admin = await _is_admin(uow, staff_id)
            found = [
                r
                for r in await uow.child_reports.list_open(self.rules.queue_limit, include_escalated=admin)
                if r.subject_id != staff_id
            ]
            for report in found:
                await self._staff_audit(uow, report, staff_id, "staff_viewed_child_report", "listed in the queue", now)
            await uow.commit()
        return found

    async def view(self, staff_id: UUID, report_id: UUID, reason: str) -> ReportView:
        """One report with the reporters' contacts and details; the view and its reason are audited."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            report = await self._get(uow, report_id, staff_id)
            await self._staff_audit(uow, report, staff_id, "staff_viewed_child_report", reason, now)
            statement = await self._statement(uow, report)
            await uow.commit()
        reporters, details = self._filing.open(report)
        return ReportView(
            statement=statement,
            report=report,
            reporters=[
                Reporter(r["contact"], r.get("relationship"), datetime.fromisoformat(r["received_at"]))
                for r in reporters
            ],
            details=details,
        )

    async def confirm(self, staff_id: UUID, report_id: UUID, reason: str) -> ChildReport:
        """The account belongs to a child: its erasure starts at once; the reporters are told we acted.

        The report is closed first by compare-and-set, so of two decisions at once (confirm and confirm, or
        confirm and dismiss) exactly one wins and only one erasure is ever opened; if opening the erasure fails,
        the report is open again for staff to retry."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            report = await self._get(uow, report_id, staff_id)
            if not await uow.child_reports.close_if_open(report_id, ReportStatus.CONFIRMED, now):
                raise ReportClosed("the report is already closed")
            await uow.commit()
        try:
            request_id = await self._erasure.erase_now(staff_id, report.subject_id, reason)
        except BaseException:
            await _until_not_busy(lambda: self._reopen(report_id))
            raise
        report = await _until_not_busy(lambda: self._record_confirmation(report_id, request_id, staff_id, reason))
        await self._mail.flush()
        return report

    async def _reopen(self, report_id: UUID) -> None:
        async with self._uow() as uow:
            await uow.child_reports.reopen(report_id, self._clock.now())
            await uow.commit()

    async def _record_confirmation(self, report_id: UUID, request_id: UUID, staff_id: UUID, reason: str) -> ChildReport:
        now = self._clock.now()
        async with self._uow() as uow:
            report = await self._get(uow, report_id, staff_id)
            report.record_erasure(request_id, now)
            await uow.child_reports.update(report)
            await self._staff_audit(uow, report, staff_id, "child_report_confirmed", reason, now)
            await self._tell_reporters(uow, report, ACTED)
            await uow.commit()
        return report

    async def dismiss(self, staff_id: UUID, report_id: UUID, reason: str) -> ChildReport:
        """The report is unfounded: the age review is lifted and the holder told (an account suspended meanwhile by
        an erasure stays as it is); the reporters are told it was reviewed. Refused with
        :class:`BirthDateBelowMinimum` while the account's stored birth date is below the minimum age."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            report = await self._get(uow, report_id, staff_id)
            account = await uow.accounts.get(report.subject_id)
            if report.is_open and account is not None and await self._below_minimum_age(uow, account):
                raise BirthDateBelowMinimum(
                    "the account's stored birth date is below the minimum age where it lives: the holder must "
                    "correct it before the report can be dismissed, or the report is confirmed"
                )
            if not await uow.child_reports.close_if_open(report_id, ReportStatus.DISMISSED, now):
                raise ReportClosed("the report is already closed")
            report = await self._get(uow, report_id, staff_id)
            await self._staff_audit(uow, report, staff_id, "child_report_dismissed", reason, now)
            if account is not None and account.lift_age_review(now):
                await uow.accounts.update(account)
                await self._staff_audit(uow, report, staff_id, "age_review_lifted", reason, now, ("status",))
                await self._tell_holder(uow, account)
            await self._tell_reporters(uow, report, REVIEWED)
            await uow.commit()
        await self._mail.flush()
        return report

    # -- internals ----------------------------------------------------------------------------------------------

    async def _get(self, uow: UnitOfWork, report_id: UUID, staff_id: UUID) -> ChildReport:
        """The report, if ``staff_id`` may see it: not one about themselves, and one about staff only as an admin
        (anything else is "no such report", so a reported staff member learns nothing about it)."""
        report = await uow.child_reports.get(report_id)
        if report is None or report.subject_id == staff_id or (report.escalated and not await _is_admin(uow, staff_id)):
            raise NotFound("no such report")
        return report

    async def _below_minimum_age(self, uow: UnitOfWork, account: Account) -> bool:
        try:
            stored = await self._keyrings(uow.subject_keys).open(
                account.id, "birth_date", account.birth_date_ciphertext
            )
        except KeyDestroyed:
            return False  # being erased: nothing to give back
        today = self._clock.now().date()
        return below_minimum_age(
            date.fromisoformat(stored), today, account.country, account.region, self._jurisdictions
        )

    async def _statement(self, uow: UnitOfWork, report: ChildReport) -> str | None:
        if report.statement_ciphertext is None:
            return None
        try:
            return await self._keyrings(uow.subject_keys).open(
                report.subject_id, STATEMENT_FIELD, report.statement_ciphertext
            )
        except KeyDestroyed:
            return None

    async def _tell_holder(self, uow: UnitOfWork, account: Account) -> None:
        try:
            address = await self._keyrings(uow.subject_keys).open(account.id, "email", account.email_ciphertext)
        except KeyDestroyed:
            return
        await self._mail.queue(
            uow,
            MailMessage(
                to=address, subject="Your Dreamina account review is over", body=REVIEW_LIFTED, kind="age_review_lifted"
            ),
            subject_id=account.id,
        )

    async def _staff_audit(
        self,
        uow: UnitOfWork,
        report: ChildReport,
        staff_id: UUID,
        action: str,
        reason: str,
        now: datetime,
        fields: tuple[str, ...] = ("child_report",),
    ) -> None:
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=report.subject_id,
                actor_kind=ActorKind.STAFF,
                actor_id=staff_id,
                action=action,
                fields=fields,
                reason=reason,
                occurred_at=now,
            )
        )

    async def _tell_reporters(self, uow: UnitOfWork, report: ChildReport, body: str) -> None:
        reporters, _ = self._filing.open(report)
        for contact in dict.fromkeys(r["contact"] for r in reporters):
            await self._mail.queue(
                uow, MailMessage(to=contact, subject="Your report to Dreamina", body=body, kind="child_report_outcome")
            )


async def _is_admin(uow: UnitOfWork, staff_id: UUID) -> bool:
    member = await uow.staff.get(staff_id)
    return member is not None and member.role is StaffRole.ADMIN


def _reason(reason: str) -> str:
    return clean_text(reason, field="reason", min_length=1, max_length=MAX_REASON, multiline=True)
