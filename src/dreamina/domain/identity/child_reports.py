"""Children (policy section 9, guarantee G8): "If you believe a child has provided us data, please contact us so we
can remove it."

Anyone may report an account, signed in or not. The answer never says whether the account exists. When it does, it
is suspended at once (sign-in and tokens refused, every session revoked, its generations stopped) and the report
waits in the staff queue; a privacy officer's confirmation erases the account at once, a dismissal reactivates it.
The reporter is told the outcome, never anything about the account. A subject who corrects their birth date to below
the minimum age is treated the same, with a report the system raises.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from dreamina.domain.privacy.errors import Conflict, InvalidInput, NotFound, StoreBusy
from dreamina.domain.privacy.validation import clean_text, normalise_email
from dreamina.ports.audit import AuditEvent
from dreamina.ports.child_reports import ChildErasure, ChildReport, GenerationStopper, ReportSource, ReportStatus
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.mail import Mailer, MailMessage
from dreamina.ports.security import AttemptCounter
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

RELATIONSHIPS = ("parent", "guardian", "other")
MAX_DETAILS = 2000
MAX_REASON = 500
MAX_REPORTERS = 5  # reporters kept per open report; later reports about the same account are only counted
EMAIL_INDEX = "email"  # the same blind index identity signs in with
T = TypeVar("T")
WRITE_ATTEMPTS = 5  # a report racing another about the same account merges into it on a later attempt
TARGET_INDEX = "child-report-target"


class ReportClosed(Conflict):
    """Staff acted on a report that is no longer open."""

    code = "child_report_closed"
    title = "The report is already closed"


@dataclass(frozen=True, slots=True)
class ChildReportRules:
    """Tunables. (The retention periods are the data map's declaration, enforced by identity's retention tasks.)"""

    per_target_limit: int = 5  # reports about one account (one email or id) per window; beyond, nothing more is done
    per_target_window_seconds: int = 24 * 3600
    queue_limit: int = 200


@dataclass(frozen=True, slots=True)
class IncomingReport:
    """What a reporter sends: the account (its email or its id, exactly one) and how to reach them."""

    contact: str
    email: str | None = None
    account_id: UUID | None = None
    details: str | None = None
    relationship: str | None = None


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


def _context(report_id: UUID, part: str) -> str:
    return f"child_report/{report_id}/{part}"


class ReportFiling:
    """Files a report about an account inside the caller's unit of work: merges it into the account's open report
    or opens one, and suspends the account at once. Shared by reports from outside and birth-date corrections."""

    def __init__(self, vault: KeyVault, cipher: FieldCipher) -> None:
        self._vault = vault
        self._cipher = cipher

    def seal_new(self, report_id: UUID, reporter: dict[str, Any], details: str | None) -> tuple[bytes, bytes, bytes]:
        """A fresh report key and the first reporter sealed with it: ``(wrapped_key, reporters, details)``."""
        key, wrapped = self._vault.generate_data_key()
        return (
            wrapped,
            self._cipher.seal(key, json.dumps([reporter]).encode(), _context(report_id, "reporters")),
            self._cipher.seal(key, json.dumps([details] if details else []).encode(), _context(report_id, "details")),
        )

    def open(self, report: ChildReport) -> tuple[list[dict[str, Any]], list[str]]:
        """The reporters and details of a report (empty once deleted)."""
        if report.reporter_key is None:
            return [], []
        key = self._vault.unwrap(report.reporter_key)
        reporters: list[dict[str, Any]] = []
        details: list[str] = []
        if report.reporters_ciphertext is not None:
            reporters = json.loads(
                self._cipher.open(key, report.reporters_ciphertext, _context(report.id, "reporters"))
            )
        if report.details_ciphertext is not None:
            details = json.loads(self._cipher.open(key, report.details_ciphertext, _context(report.id, "details")))
        return reporters, details

    async def file(
        self,
        uow: UnitOfWork,
        account: Account,
        source: ReportSource,
        now: datetime,
        *,
        reporter: dict[str, Any] | None = None,
        details: str | None = None,
        sealed: tuple[bytes, bytes, bytes] | None = None,
        report_id: UUID | None = None,
    ) -> ChildReport:
        """Suspend ``account`` and record the report (``sealed`` from :meth:`seal_new` with ``report_id``)."""
        suspended = await suspend_for_child_safety(uow, account, source, now)
        existing = await uow.child_reports.open_for_subject(account.id)
        if existing is not None:
            existing.receive_another(now, suspended_account=suspended)
            if reporter is not None:
                self._merge(existing, reporter, details)
            await uow.child_reports.update(existing)
            return existing
        report = ChildReport(
            id=report_id or uuid.uuid4(),
            subject_id=account.id,
            source=source,
            status=ReportStatus.OPEN,
            received_at=now,
            updated_at=now,
            reports_received=1,
            suspended_account=suspended,
            reporter_key=None,
            reporters_ciphertext=None,
            details_ciphertext=None,
        )
        if reporter is not None:
            report.hold_reporters(*(sealed or self.seal_new(report.id, reporter, details)))
        await uow.child_reports.add(report)
        return report

    def _merge(self, report: ChildReport, reporter: dict[str, Any], details: str | None) -> None:
        reporters, texts = self.open(report)
        if len(reporters) >= MAX_REPORTERS:
            return
        reporters.append(reporter)
        if details:
            texts.append(details)
        if report.reporter_key is None:
            key, wrapped = self._vault.generate_data_key()
        else:
            wrapped = report.reporter_key
            key = self._vault.unwrap(wrapped)
        report.hold_reporters(
            wrapped,
            self._cipher.seal(key, json.dumps(reporters).encode(), _context(report.id, "reporters")),
            self._cipher.seal(key, json.dumps(texts).encode(), _context(report.id, "details")),
        )


async def _until_not_busy(work: Callable[[], Awaitable[T]]) -> T:
    """Run a unit of work again while the store says it is busy (SQLite refusing a write after a stale read): for
    the steps after a decision, which must not be lost once the decision is taken."""
    for attempt in range(WRITE_ATTEMPTS - 1):
        try:
            return await work()
        except StoreBusy:
            await asyncio.sleep(0.02 * (attempt + 1))
    return await work()


async def suspend_for_child_safety(uow: UnitOfWork, account: Account, source: ReportSource, now: datetime) -> bool:
    """Suspend at once: status suspended (sign-in and tokens refused), every session revoked, audited without any
    report text. Returns whether the account was active until now."""
    was_active = account.suspend(now)
    if was_active:
        await uow.accounts.update(account)
    await uow.sessions.delete_for_account(account.id)
    await uow.audit.append(
        AuditEvent(
            id=uuid.uuid4(),
            subject_id=account.id,
            actor_kind="system",
            actor_id=None,
            action="suspended_on_child_report",
            fields=("status", "sessions"),
            reason=f"child report ({source.value})",
            occurred_at=now,
        )
    )
    return was_active


class ChildReports:
    """The children's flow: intake (anyone), the staff queue, confirmation (erasure) and dismissal."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        cipher: FieldCipher,
        clock: Clock,
        mailer: Mailer,
        attempts: AttemptCounter,
        generations: GenerationStopper,
        erasure: ChildErasure,
        rules: ChildReportRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._clock = clock
        self._mailer = mailer
        self._attempts = attempts
        self._generations = generations
        self._erasure = erasure
        self._filing = ReportFiling(vault, cipher)
        self.rules = rules or ChildReportRules()

    # -- intake ------------------------------------------------------------------------------------------------

    async def report(self, incoming: IncomingReport) -> None:
        """Receive a report. Returns nothing either way: whether the account exists is never revealed, and the same
        work (blind index, sealing, look-up) is done for an unknown account as for a known one."""
        contact = normalise_email(incoming.contact, field="contact")
        relationship = incoming.relationship
        if relationship is not None and relationship not in RELATIONSHIPS:
            raise InvalidInput(f"relationship must be one of {', '.join(RELATIONSHIPS)}", field="relationship")
        details = None
        if incoming.details is not None:
            details = clean_text(incoming.details, field="details", max_length=MAX_DETAILS, multiline=True) or None
        if (incoming.email is None) == (incoming.account_id is None):
            raise InvalidInput("give the account's email or its id, not both", field="email")
        if incoming.email is not None:
            target = "email:" + normalise_email(incoming.email)
            email_index = self._vault.blind_index(EMAIL_INDEX, target.removeprefix("email:"))
        else:
            target = f"id:{incoming.account_id}"
            email_index = self._vault.blind_index(EMAIL_INDEX, target)  # same work; matches no account

        throttle_key = "child-report:" + self._vault.blind_index(TARGET_INDEX, target)
        if await self._attempts.count(throttle_key) >= self.rules.per_target_limit:
            return  # enough reports about this account for now: the first ones already suspended it
        await self._attempts.hit(throttle_key, self.rules.per_target_window_seconds)

        now = self._clock.now()
        report_id = uuid.uuid4()
        reporter = {"contact": contact, "relationship": relationship, "received_at": now.isoformat()}
        sealed = self._filing.seal_new(report_id, reporter, details)
        account: Account | None = None
        for attempt in range(WRITE_ATTEMPTS):
            try:
                async with self._uow() as uow:
                    if incoming.account_id is not None:
                        account = await uow.accounts.get(incoming.account_id)
                    else:
                        account = await uow.accounts.get_by_email_index(email_index)
                    if account is None:
                        return  # nothing is kept about an account we do not have, nor about who asked
                    await self._filing.file(
                        uow,
                        account,
                        ReportSource.REPORT,
                        now,
                        reporter=reporter,
                        details=details,
                        sealed=sealed,
                        report_id=report_id,
                    )
                    await uow.commit()
                break
            except (Conflict, StoreBusy):
                # Another report about the same account wrote first (at most one report is open per account; on
                # SQLite a write after a stale read is refused): the next attempt finds it and merges into it.
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.02 * (attempt + 1))
        assert account is not None
        await self._generations.stop_all(account.id)

    # -- staff --------------------------------------------------------------------------------------------------

    async def queue(self, staff_id: UUID) -> list[ChildReport]:
        """Open reports, oldest first; every report listed is recorded as a staff view."""
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.child_reports.list_open(self.rules.queue_limit)
            for report in found:
                await self._staff_audit(uow, report, staff_id, "staff_viewed_child_report", "listed in the queue", now)
            await uow.commit()
        return found

    async def view(self, staff_id: UUID, report_id: UUID, reason: str) -> ReportView:
        """One report with the reporters' contacts and details; the view and its reason are audited."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            report = await self._get(uow, report_id)
            await self._staff_audit(uow, report, staff_id, "staff_viewed_child_report", reason, now)
            await uow.commit()
        reporters, details = self._filing.open(report)
        return ReportView(
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
            report = await self._get(uow, report_id)
            if not await uow.child_reports.close_if_open(report_id, ReportStatus.CONFIRMED, now):
                raise ReportClosed("the report is already closed")
            await uow.commit()
        try:
            request_id = await self._erasure.erase_now(staff_id, report.subject_id, reason)
        except BaseException:
            await _until_not_busy(lambda: self._reopen(report_id))
            raise
        report = await _until_not_busy(lambda: self._record_confirmation(report_id, request_id, staff_id, reason))
        await self._tell_reporters(
            report,
            "Thank you for your report. We reviewed it and acted on it: the account is being removed.\n",
        )
        return report

    async def _reopen(self, report_id: UUID) -> None:
        async with self._uow() as uow:
            await uow.child_reports.reopen(report_id, self._clock.now())
            await uow.commit()

    async def _record_confirmation(self, report_id: UUID, request_id: UUID, staff_id: UUID, reason: str) -> ChildReport:
        now = self._clock.now()
        async with self._uow() as uow:
            report = await self._get(uow, report_id)
            report.record_erasure(request_id, now)
            await uow.child_reports.update(report)
            await self._staff_audit(uow, report, staff_id, "child_report_confirmed", reason, now)
            await uow.commit()
        return report

    async def dismiss(self, staff_id: UUID, report_id: UUID, reason: str) -> ChildReport:
        """The report is unfounded: the account is reactivated if the report suspended it (its sessions stay
        revoked); the reporters are told it was reviewed."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            if not await uow.child_reports.close_if_open(report_id, ReportStatus.DISMISSED, now):
                await self._get(uow, report_id)  # 404 for an unknown report
                raise ReportClosed("the report is already closed")
            report = await self._get(uow, report_id)
            await self._staff_audit(uow, report, staff_id, "child_report_dismissed", reason, now)
            account = await uow.accounts.get(report.subject_id)
            if report.suspended_account and account is not None and account.reactivate(now):
                await uow.accounts.update(account)
                await self._staff_audit(uow, report, staff_id, "account_reactivated", reason, now, ("status",))
            await uow.commit()
        await self._tell_reporters(report, "Thank you for your report. We reviewed it carefully.\n")
        return report

    # -- internals ---------------------------------------------------------------------------------------------

    async def _get(self, uow: UnitOfWork, report_id: UUID) -> ChildReport:
        report = await uow.child_reports.get(report_id)
        if report is None:
            raise NotFound("no such report")
        return report

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
                actor_kind="staff",
                actor_id=staff_id,
                action=action,
                fields=fields,
                reason=reason,
                occurred_at=now,
            )
        )

    async def _tell_reporters(self, report: ChildReport, body: str) -> None:
        reporters, _ = self._filing.open(report)
        for contact in dict.fromkeys(r["contact"] for r in reporters):
            await self._mailer.send(
                MailMessage(to=contact, subject="Your report to Dreamina", body=body, kind="child_report_outcome")
            )


def _reason(reason: str) -> str:
    return clean_text(reason, field="reason", min_length=1, max_length=MAX_REASON, multiline=True)


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
