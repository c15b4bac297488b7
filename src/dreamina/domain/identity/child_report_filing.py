"""Children (policy section 9, guarantee G8): "If you believe a child has provided us data, please contact us so we
can remove it."

Anyone may report an account, signed in or not (:mod:`~dreamina.domain.identity.child_report_intake`). The answer
never says whether the account exists, and the route does the same work either way: the report is received sealed
and matched to an account afterwards (:mod:`~dreamina.domain.identity.child_report_matching`). A matched report puts
the account under **age review**: the holder is mailed and keeps signing in, reading, exporting and deleting their
data, and may answer the review with a statement; generation, uploads and purchases are refused (403
``age_review``) and queued generations are stopped. Staff decide in the queue
(:mod:`~dreamina.domain.identity.child_report_review`): a confirmation erases the account at once, a dismissal lifts
the review (never while the stored birth date is below the minimum age). A report about a staff member's account
changes nothing automatically: it is escalated to the admins. A subject who corrects their birth date to below the
minimum age is treated the same, with a report the system raises.

This module is what matching, review and birth-date corrections share: filing a report (merging it into the
account's open report, opening the age review or escalating it) and sealing the reporters' data with the report's
own key.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.child_reports import ChildReport, ReportSource, ReportStatus
from dreamina.ports.identity import Account
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.mail import MailMessage
from dreamina.ports.unit_of_work import UnitOfWork

MAX_REPORTERS = 5  # reporters kept per open report; later reports about the same account are only counted
WRITE_ATTEMPTS = 5  # a report racing another about the same account merges into it on a later attempt


@dataclass(frozen=True, slots=True)
class ChildReportRules:
    """Tunables. (The retention periods are the data map's declaration, enforced by identity's retention tasks.)"""

    per_target_limit: int = 5  # reports about one address or id per window; beyond, 429
    per_target_window_seconds: int = 24 * 3600
    per_reporter_limit: int = 5  # reports from one contact address per window; beyond, 429
    per_reporter_window_seconds: int = 24 * 3600
    queue_limit: int = 200
    match_batch: int = 50  # received reports matched per pass


def _context(report_id: UUID, part: str) -> str:
    return f"child_report/{report_id}/{part}"


AGE_REVIEW_NOTICE = (
    "Someone told us that your Dreamina account may belong to a child under the minimum age, so our staff are "
    "reviewing it.\n\nUntil they decide you can still sign in, read, export and delete your data, but you cannot "
    "start generations, upload images or buy credits.\n\nIf the report is wrong, tell us: sign in and send a short "
    "statement (POST /v1/me/age-review/statement), for example a corrected birth date. We never tell you who "
    "reported the account.\n"
)


@dataclass(frozen=True, slots=True)
class Filed:
    """What filing did: the report, and whether it opened the age review of an active account just now."""

    report: ChildReport
    review_opened: bool


class ReportFiling:
    """Files a report about an account inside the caller's unit of work: merges it into the account's open report
    or opens one; puts the account under age review, or escalates the report to the admins when the account is a
    staff member's. Shared by matched reports and birth-date corrections. With ``mail`` (and ``keyrings``), the
    holder is told when the review opens; a birth-date correction is not mailed: its own answer says it."""

    def __init__(
        self,
        vault: KeyVault,
        cipher: FieldCipher,
        *,
        mail: MailDelivery | None = None,
        keyrings: Keyrings | None = None,
    ) -> None:
        self._vault = vault
        self._cipher = cipher
        self._mail = mail
        self._keyrings = keyrings

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
        """Record the report and open the age review (``sealed`` from :meth:`seal_new` with ``report_id``)."""
        filed = await self.file_and_tell(
            uow, account, source, now, reporter=reporter, details=details, sealed=sealed, report_id=report_id
        )
        return filed.report

    async def file_and_tell(
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
    ) -> Filed:
        """:meth:`file`, saying whether the review opened just now (the caller then stops the generations)."""
        staff = await uow.staff.get(account.id) is not None
        opened = False if staff else await open_age_review(uow, account, source, now)
        existing = await uow.child_reports.open_for_subject(account.id)
        if existing is not None:
            existing.receive_another(now, suspended_account=opened)
            if reporter is not None:
                self._merge(existing, reporter, details)
            await uow.child_reports.update(existing)
            report = existing
        else:
            report = self._new(account, source, now, opened, reporter, details, sealed, report_id)
            if staff:
                report.escalate(now)
                await _system_audit(uow, account.id, "child_report_escalated_to_admin", ("child_report",), source, now)
            await uow.child_reports.add(report)
        if opened and source is ReportSource.REPORT:
            await self._tell_holder(uow, account)
        return Filed(report, opened)

    def _new(
        self,
        account: Account,
        source: ReportSource,
        now: datetime,
        opened: bool,
        reporter: dict[str, Any] | None,
        details: str | None,
        sealed: tuple[bytes, bytes, bytes] | None,
        report_id: UUID | None,
    ) -> ChildReport:
        report = ChildReport(
            id=report_id or uuid.uuid4(),
            subject_id=account.id,
            source=source,
            status=ReportStatus.OPEN,
            received_at=now,
            updated_at=now,
            reports_received=1,
            suspended_account=opened,
            reporter_key=None,
            reporters_ciphertext=None,
            details_ciphertext=None,
        )
        if reporter is not None:
            report.hold_reporters(*(sealed or self.seal_new(report.id, reporter, details)))
        return report

    async def _tell_holder(self, uow: UnitOfWork, account: Account) -> None:
        if self._mail is None or self._keyrings is None:
            return
        try:
            address = await self._keyrings(uow.subject_keys).open(account.id, "email", account.email_ciphertext)
        except KeyDestroyed:
            return  # being erased: nobody to tell
        await self._mail.queue(
            uow,
            MailMessage(
                to=address,
                subject="Your Dreamina account is under age review",
                body=AGE_REVIEW_NOTICE,
                kind="age_review_opened",
            ),
            subject_id=account.id,
        )

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


async def open_age_review(uow: UnitOfWork, account: Account, source: ReportSource, now: datetime) -> bool:
    """Put the account under age review (its sessions stay: the holder keeps their rights), audited without any
    report text. Returns whether it was active until now."""
    opened = account.place_under_age_review(now)
    if opened:
        await uow.accounts.update(account)
        await _system_audit(uow, account.id, "age_review_opened", ("status",), source, now)
    return opened


async def _system_audit(
    uow: UnitOfWork, subject_id: UUID, action: str, fields: tuple[str, ...], source: ReportSource, now: datetime
) -> None:
    await uow.audit.append(
        AuditEvent(
            id=uuid.uuid4(),
            subject_id=subject_id,
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            action=action,
            fields=fields,
            reason=f"child report ({source.value})",
            occurred_at=now,
        )
    )
