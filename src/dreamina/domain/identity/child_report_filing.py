"""Children (policy section 9, guarantee G8): "If you believe a child has provided us data, please contact us so we
can remove it."

Anyone may report an account, signed in or not (:mod:`~dreamina.domain.identity.child_report_intake`). The answer
never says whether the account exists. When it does, it is suspended at once (sign-in and tokens refused, every
session revoked, its generations stopped) and the report waits in the staff queue
(:mod:`~dreamina.domain.identity.child_report_review`); a privacy officer's confirmation erases the account at once,
a dismissal reactivates it. The reporter is told the outcome, never anything about the account. A subject who
corrects their birth date to below the minimum age is treated the same, with a report the system raises.

This module is what intake, review and birth-date corrections share: filing a report (merging it into the
account's open report, suspending the account) and sealing the reporters' data with the report's own key.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.child_reports import ChildReport, ReportSource, ReportStatus
from dreamina.ports.identity import Account
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.unit_of_work import UnitOfWork

MAX_REPORTERS = 5  # reporters kept per open report; later reports about the same account are only counted
WRITE_ATTEMPTS = 5  # a report racing another about the same account merges into it on a later attempt


@dataclass(frozen=True, slots=True)
class ChildReportRules:
    """Tunables. (The retention periods are the data map's declaration, enforced by identity's retention tasks.)"""

    per_target_limit: int = 5  # reports about one account (one email or id) per window; beyond, nothing more is done
    per_target_window_seconds: int = 24 * 3600
    queue_limit: int = 200


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
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            action="suspended_on_child_report",
            fields=("status", "sessions"),
            reason=f"child report ({source.value})",
            occurred_at=now,
        )
    )
    return was_active
