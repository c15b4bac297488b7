"""Reports that an account belongs to a child (policy section 9, guarantee G8), and what the flow needs from
other modules: stopping the account's generations and erasing it at once."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class ReportSource(enum.StrEnum):
    REPORT = "report"  # someone told us through POST /v1/privacy/child-reports
    BIRTH_DATE = "birth_date_correction"  # the subject corrected their birth date to below the minimum age


class ReportStatus(enum.StrEnum):
    OPEN = "open"  # in the staff queue; the account is under age review (a staff account: escalated to admins)
    CONFIRMED = "confirmed"  # staff confirmed: the account is being erased
    DISMISSED = "dismissed"  # staff found it unfounded: the age review was lifted
    ACCOUNT_ERASED = "account_erased"  # the account was erased before staff decided


@dataclass(slots=True)
class ChildReport:
    """One open (or closed) report about one account; later reports about it while open are merged into it.

    The reporters' contacts and details are another person's data than the subject's: they are sealed with a data
    key of the report's own (``reporter_key``, wrapped by the master key) and dropped after the declared period.
    """

    id: UUID
    subject_id: UUID  # the account reported; the subject's erasure replaces it with their erasure pseudonym
    source: ReportSource
    status: ReportStatus
    received_at: datetime
    updated_at: datetime
    reports_received: int
    suspended_account: bool  # this report put an active account under age review (dismissal lifts it)
    reporter_key: bytes | None  # the report's data key, wrapped by the master key
    reporters_ciphertext: bytes | None  # JSON list of {contact, relationship, received_at}
    details_ciphertext: bytes | None  # JSON list of the reporters' free-text details
    closed_at: datetime | None = None
    erasure_request_id: UUID | None = None
    reporter_data_deleted_at: datetime | None = None
    escalated: bool = False  # the account is a staff member's: nothing changed automatically; admins decide
    statement_ciphertext: bytes | None = None  # the holder's answer to the review, sealed with their data key
    statement_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is ReportStatus.OPEN

    def escalate(self, now: datetime) -> None:
        """The reported account belongs to staff: only an admin (not the member reported) sees and decides it."""
        self.escalated = True
        self.updated_at = now

    def record_statement(self, statement_ciphertext: bytes, now: datetime) -> None:
        """The holder's answer to the review (a later answer replaces the earlier one)."""
        self.statement_ciphertext = statement_ciphertext
        self.statement_at = now
        self.updated_at = now

    def receive_another(self, now: datetime, *, suspended_account: bool) -> None:
        """Another report about the same account, merged into this open one."""
        self.reports_received += 1
        self.suspended_account = self.suspended_account or suspended_account
        self.updated_at = now

    def hold_reporters(self, reporter_key: bytes, reporters_ciphertext: bytes, details_ciphertext: bytes) -> None:
        """The reporters and their details, sealed (again) with the report's key (``reporter_key``, wrapped)."""
        self.reporter_key = reporter_key
        self.reporters_ciphertext = reporters_ciphertext
        self.details_ciphertext = details_ciphertext

    def close(self, status: ReportStatus, now: datetime) -> None:
        """Staff decided (``confirmed`` or ``dismissed``), or the account was erased first."""
        self.status = status
        self.closed_at = now
        self.updated_at = now

    def reopen(self, now: datetime) -> None:
        """A decision whose follow-up failed is undone: the report is back in the queue."""
        self.status = ReportStatus.OPEN
        self.closed_at = None
        self.updated_at = now

    def record_erasure(self, erasure_request_id: UUID, now: datetime) -> None:
        """The erasure a confirmation opened."""
        self.erasure_request_id = erasure_request_id
        self.updated_at = now

    def pseudonymise(self, pseudonym: UUID, now: datetime) -> None:
        """The reported subject's erasure: their id becomes ``pseudonym``, the details (which may name the child)
        go, and a report still open is closed as ``account_erased``."""
        self.subject_id = pseudonym
        self.details_ciphertext = None
        self.statement_ciphertext = None
        if self.is_open:
            self.close(ReportStatus.ACCOUNT_ERASED, now)
        self.updated_at = now


class ChildReportRepository(Protocol):
    async def add(self, report: ChildReport) -> None:
        """Store a new report; raises ``Conflict`` if the id exists."""
        ...

    async def get(self, report_id: UUID) -> ChildReport | None: ...

    async def update(self, report: ChildReport) -> None:
        """Persist every field (including ``subject_id``); raises ``NotFound`` if the report is gone."""
        ...

    async def close_if_open(self, report_id: UUID, status: ReportStatus, now: datetime) -> bool:
        """Close the report with ``status`` only if it is still open (compare-and-set): of two staff decisions at
        once exactly one wins. Returns whether this call closed it."""
        ...

    async def reopen(self, report_id: UUID, now: datetime) -> None:
        """Undo a close whose follow-up failed (the erasure could not be opened): the report is open again."""
        ...

    async def open_for_subject(self, subject_id: UUID) -> ChildReport | None:
        """The subject's open report, if any (there is at most one: later reports merge into it)."""
        ...

    async def list_for_subject(self, subject_id: UUID) -> list[ChildReport]:
        """Every report about the subject, oldest first."""
        ...

    async def list_open(self, limit: int, *, include_escalated: bool = True) -> list[ChildReport]:
        """Open reports, oldest first (the staff queue); ``include_escalated=False`` leaves out the reports about
        staff accounts, which only admins see."""
        ...

    async def delete_reporter_data(self, closed_before: datetime, now: datetime, limit: int) -> int:
        """Retention: for at most ``limit`` reports closed before ``closed_before`` that still hold reporter data,
        drop the key, contacts and details and stamp ``reporter_data_deleted_at``; returns how many."""
        ...

    async def count_reporter_data(self, closed_before: datetime) -> int:
        """How many reports closed before ``closed_before`` still hold reporter data (dry runs)."""
        ...

    async def delete_closed(self, closed_before: datetime, limit: int) -> int:
        """Retention: delete at most ``limit`` reports closed before ``closed_before``; returns how many."""
        ...

    async def count_closed(self, closed_before: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class ReceivedChildReport:
    """A report as the public route received it, before anyone looked for the account: everything the reporter
    sent (the target included) sealed with a key of its own, so receiving it costs the same whether or not the
    account exists. Matching takes it out of the inbox and files it (or drops it)."""

    id: UUID
    received_at: datetime
    wrapped_key: bytes
    sealed: bytes


class ChildReportInbox(Protocol):
    async def add(self, received: ReceivedChildReport) -> None: ...

    async def oldest(self, limit: int) -> list[UUID]:
        """Ids of the reports waiting to be matched, oldest first."""
        ...

    async def take(self, report_id: UUID) -> ReceivedChildReport | None:
        """Remove and return one waiting report (``None`` if another matcher took it): the claim of a match,
        committed or rolled back with what the match files."""
        ...

    async def delete_older(self, before: datetime, limit: int) -> int:
        """Retention: delete at most ``limit`` waiting reports received before ``before``; returns how many."""
        ...

    async def count_older(self, before: datetime) -> int: ...


class GenerationStopper(Protocol):
    """Stops every queued or running generation of a subject (their reserved credits are released)."""

    async def stop_all(self, subject_id: UUID) -> int:
        """Cancel the subject's unfinished generations; returns how many were stopped."""
        ...


class ChildErasure(Protocol):
    """Starts the immediate erasure of an account that staff confirmed belongs to a child."""

    async def erase_now(self, staff_id: UUID, subject_id: UUID, reason: str) -> UUID:
        """Open an erasure due at once (no grace period, no proof asked of the child); returns the request id."""
        ...


class ChildReportStores(Protocol):
    """The children's flow's stores in a unit of work."""

    child_reports: ChildReportRepository
    child_report_inbox: ChildReportInbox
