"""Data rights (policy section 7): privacy requests, their jobs, and the holders of personal data.

Every module that stores personal data provides one :class:`PersonalDataHolder`. The data-rights engine knows
nothing about their tables: it asks each holder to export or erase a subject, and a completeness test proves that
every store and object prefix of the data map is claimed by exactly one holder.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from dreamina.domain.privacy.errors import DomainError
from dreamina.domain.privacy.jurisdictions import DeadlineFlag
from dreamina.ports.audit import ActorKind
from dreamina.ports.restrictions import ProcessingRestrictions

# --- holders of personal data -------------------------------------------------------------------------------

CoverageKind = Literal["store", "prefix"]


class ErasureStage(enum.IntEnum):
    """When a holder erases, in the order the data-rights saga runs them; every holder declares its stage.

    A module's own records go first (erasing them may write audit events: billing audits the processor's customer
    deletion); identity then pseudonymises the audit trail; then the subject's files; the data key is destroyed
    after every holder that might still read with it; the saga's own progress lives in the data-rights tables, so
    they go last.
    """

    MODULE_RECORDS = 10
    AUDIT_TRAIL = 20
    OBJECTS = 30
    DATA_KEY = 40
    REQUEST_RECORDS = 50


@dataclass(frozen=True, slots=True)
class Coverage:
    """How a holder exports and erases one store (table) or object prefix of the data map."""

    kind: CoverageKind
    name: str  # the store name or the object prefix ("uploads/")
    export: str  # where it lands in the archive, or why it is not exported
    erasure: str  # what erasure does to it
    pseudonymised_legal_hold: bool = False  # kept (pseudonymised) after erasure for a legal obligation


@dataclass(frozen=True, slots=True)
class ErasureOutcome:
    """What one holder did for one erasure. Counts only: it never carries personal data."""

    holder: str
    deleted: int
    pseudonymised: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"holder": self.holder, "deleted": self.deleted, "pseudonymised": self.pseudonymised}


@dataclass(frozen=True, slots=True)
class ProcessorReference:
    """A processor that received the subject's data, and its id for what it holds (None: look-up by ours)."""

    processor: str
    reference: str | None


class ExportSink(Protocol):
    """Where holders write a subject's data: one JSON file per category, plus original files.

    Memory stays bounded: records and file chunks are consumed as they are produced.
    """

    async def write_records(
        self, category: str, description: str, records: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]]
    ) -> None:
        """Write ``<category>.json``: a JSON array of the records; ``description`` goes into the README."""
        ...

    async def write_file(self, path: str, description: str, chunks: AsyncIterable[bytes]) -> None:
        """Write one original file under ``files/<path>``."""
        ...


class PersonalDataHolder(Protocol):
    """A module's answer to "what do you hold about this subject": count, export, erase."""

    @property
    def name(self) -> str: ...

    @property
    def stage(self) -> ErasureStage:
        """When this holder erases, relative to the others."""
        ...

    @property
    def coverage(self) -> tuple[Coverage, ...]: ...

    async def count(self, subject_id: UUID) -> dict[str, int]:
        """Records held per covered store or prefix (for the access report)."""
        ...

    async def export(self, subject_id: UUID, sink: ExportSink) -> None: ...

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        """Delete (or pseudonymise declared legal holds); idempotent: a second call finds nothing to do."""
        ...

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        """Processors that received data from this holder's stores and must be asked to delete it."""
        ...


class ProcessorEraser(Protocol):
    """Asks one processor to delete what it holds about a subject."""

    @property
    def processor(self) -> str: ...

    async def delete(self, reference: str | None) -> str:
        """Returns the processor's outcome (``deleted``, ``not_found``); raises on a failure worth retrying."""
        ...


class ExportArchive(Protocol):
    """Builds a subject's export archive into the object store with bounded memory."""

    async def build(self, key: str, readme: str, fill: Callable[[ExportSink], Awaitable[None]]) -> int:
        """Run ``fill`` against a sink whose output streams into ``key``; returns the archive's size in bytes.

        What an earlier attempt left unfinished under ``key`` (a worker killed mid-upload) is aborted first."""
        ...


class ProfileCorrections(Protocol):
    """Applies structured corrections of account fields with the identity module's own rules."""

    async def correct(
        self, subject_id: UUID, changes: Mapping[str, str | None], *, password: str | None = None
    ) -> tuple[str, ...]:
        """Apply ``changes``; returns the names of fields that actually changed. Raises ``InvalidInput``. A change
        that needs the subject's password again (the email) takes it as ``password``; the email changes only once
        the new address confirms, so it is never among the names returned."""
        ...


# --- requests and their jobs --------------------------------------------------------------------------------


class RequestNotOpen(DomainError):
    """The request is not in a state that allows this action (its records refuse the transition)."""

    code = "request_not_open"
    title = "The request does not allow this action in its current state"


class RequestType(enum.StrEnum):
    ACCESS = "access"
    EXPORT = "export"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    OBJECTION = "objection"
    RESTRICTION = "restriction"


class RequestStatus(enum.StrEnum):
    """Where a request stands; the last three close it for good."""

    AWAITING_VERIFICATION = "awaiting_verification"
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    PROCESSING = "processing"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (RequestStatus.COMPLETED, RequestStatus.REJECTED, RequestStatus.CANCELLED)


Statuses = tuple[RequestStatus, ...]
OPEN_STATUSES: Statuses = tuple(s for s in RequestStatus if not s.terminal)
CLOSED_STATUSES: Statuses = tuple(s for s in RequestStatus if s.terminal)
# The subject may withdraw an erasure in its grace period, a request not yet verified, or one staff has not decided.
CANCELLABLE = (RequestStatus.AWAITING_VERIFICATION, RequestStatus.SCHEDULED, RequestStatus.IN_REVIEW)


@dataclass(slots=True)
class PrivacyRequest:
    """A subject's request. ``details_ciphertext`` is sealed with the subject's key; ``outcome`` holds no PII.
    Its status changes only through the transitions below, which refuse what the request's state does not allow."""

    id: UUID
    subject_id: UUID
    type: RequestType
    status: RequestStatus
    jurisdiction: str
    received_at: datetime
    due_at: datetime
    updated_at: datetime
    details_ciphertext: bytes | None = None
    paused_since: datetime | None = None  # the legal clock stopped (waiting for proof of identity)
    paused_seconds: int = 0
    extended_at: datetime | None = None
    extension_reason: str | None = None
    flag: DeadlineFlag | None = None  # set by the deadline monitor
    code_hash: str | None = None
    code_expires_at: datetime | None = None
    code_attempts: int = 0
    codes_sent: int = 0
    verified_at: datetime | None = None
    scheduled_for: datetime | None = None  # erasure: when the grace period ends
    outcome: dict[str, Any] = field(default_factory=dict)

    def ensure_open(self) -> None:
        if RequestStatus(self.status).terminal:
            raise RequestNotOpen("the request is already closed")

    def move_to(self, status: RequestStatus, now: datetime) -> None:
        """Enter ``status`` (or stay in it: a merge, an extension or a flag is still a change the history records);
        a closed request never moves again."""
        self.ensure_open()
        self.status = RequestStatus(status)
        self.updated_at = now
        if self.status.terminal:
            self.flag = None  # deadlines concern open requests only

    def complete(self, now: datetime, outcome: Mapping[str, Any] | None = None) -> None:
        self.ensure_open()
        self.outcome = {**self.outcome, **(outcome or {})}
        self.move_to(RequestStatus.COMPLETED, now)

    def approve(self, now: datetime) -> None:
        """Staff carried out a request under review."""
        if self.status != RequestStatus.IN_REVIEW:
            raise RequestNotOpen("only a request under review can be approved")
        self.complete(now, {"resolved_by_staff": True})

    def cancel(self, now: datetime) -> None:
        if self.status not in CANCELLABLE:
            raise RequestNotOpen("this request can no longer be cancelled")
        self.move_to(RequestStatus.CANCELLED, now)

    def schedule(self, run_at: datetime, now: datetime) -> None:
        """An erasure waits for its grace period to end at ``run_at``."""
        self.scheduled_for = run_at
        self.move_to(RequestStatus.SCHEDULED, now)

    def expedite(self, now: datetime) -> None:
        """A scheduled erasure becomes due at once."""
        if self.type != RequestType.ERASURE or self.status != RequestStatus.SCHEDULED:
            raise RequestNotOpen("only a scheduled erasure can be expedited")
        self.schedule(now, now)

    def extend(self, due_at: datetime, reason: str, flag: DeadlineFlag | None, now: datetime) -> None:
        """The one extension of the deadline (how far is the jurisdiction's rule, not the record's)."""
        self.ensure_open()
        self.due_at, self.extended_at, self.extension_reason, self.flag = due_at, now, reason, flag
        self.move_to(self.status, now)

    def issue_code(self, code_hash: str, expires_at: datetime, now: datetime) -> None:
        """A new one-time code replaces the last one and gets a fresh count of attempts."""
        self.code_hash, self.code_expires_at, self.code_attempts = code_hash, expires_at, 0
        self.codes_sent += 1
        self.updated_at = now

    def proof_failed(self, now: datetime) -> None:
        self.code_attempts += 1
        self.updated_at = now


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One state change of a request: its status history."""

    id: UUID
    request_id: UUID
    subject_id: UUID
    status: RequestStatus
    actor_kind: ActorKind
    actor_id: UUID | None
    note: str | None
    occurred_at: datetime


class JobKind(enum.StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


class JobState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class PrivacyJob:
    """The persisted progress of an export or erasure: every finished step is in ``steps_done``."""

    request_id: UUID
    subject_id: UUID
    kind: JobKind
    state: JobState
    run_after: datetime
    updated_at: datetime
    completion_id: UUID
    steps_done: tuple[str, ...] = ()
    attempts: int = 0
    archive_key: str | None = None
    archive_bytes: int | None = None
    expires_at: datetime | None = None
    processor_calls: tuple[dict[str, Any], ...] = ()
    # written only by ``claim``/``release``; ``update`` leaves them
    lease_owner: str | None = None
    lease_until: datetime | None = None

    def record_step(self, step: str, now: datetime) -> None:
        self.steps_done = (*self.steps_done, step)
        self.updated_at = now

    def run_at(self, run_after: datetime, now: datetime) -> None:
        """Due at ``run_after`` (an expedited erasure: now; a retry: after its back-off)."""
        self.run_after = run_after
        self.updated_at = now

    def finish(self, now: datetime) -> None:
        self.state = JobState.DONE
        self.updated_at = now

    def stop(self, now: datetime) -> bool:
        """Cancel a job that has not run to its end; False (and nothing changes) if it has."""
        if self.state != JobState.PENDING:
            return False
        self.state = JobState.CANCELLED
        self.updated_at = now
        return True


@dataclass(frozen=True, slots=True)
class ErasureCompletion:
    """Proof that an erasure finished. Random id, counts and outcomes only: it names nobody."""

    id: UUID
    completed_at: datetime
    outcome: dict[str, Any]


class PrivacyRequestRepository(Protocol):
    async def add(self, request: PrivacyRequest) -> None: ...

    async def get(self, request_id: UUID) -> PrivacyRequest | None: ...

    async def update(self, request: PrivacyRequest) -> None:
        """Persist changed fields; raises ``NotFound`` if gone."""

    async def list_for_subject(self, subject_id: UUID) -> list[PrivacyRequest]:
        """The subject's requests, newest first."""

    async def list_open(
        self, *, statuses: Statuses, type: RequestType | None = None, due_before: datetime | None = None, limit: int
    ) -> list[PrivacyRequest]:
        """Requests in ``statuses`` (optionally of one type, due before a time), soonest due first."""

    async def delete_for_subject(self, subject_id: UUID) -> int: ...

    async def count_expired_codes(self, now: datetime) -> int:
        """How many requests still hold a one-time code that expired before ``now``."""

    async def clear_expired_codes(self, now: datetime, limit: int) -> int:
        """Retention: clear the hash and expiry of at most ``limit`` expired codes; returns how many."""

    async def count_closed_before(self, statuses: Statuses, cutoff: datetime) -> int:
        """How many requests in ``statuses`` (the closed ones) last changed before ``cutoff``."""

    async def lock_closed_before(self, statuses: Statuses, cutoff: datetime, limit: int) -> list[UUID]:
        """Ids of at most ``limit`` of those, oldest first, locked for this transaction (rows another transaction
        holds are skipped)."""

    async def delete_many(self, request_ids: list[UUID]) -> int: ...


class RequestEventRepository(Protocol):
    async def append(self, event: RequestEvent) -> None: ...

    async def list_for_request(self, request_id: UUID) -> list[RequestEvent]:
        """Oldest first."""

    async def delete_for_subject(self, subject_id: UUID) -> int: ...

    async def delete_for_requests(self, request_ids: list[UUID]) -> int: ...


class PrivacyJobRepository(Protocol):
    async def add(self, job: PrivacyJob) -> None:
        """Raises ``Conflict`` if the request already has a job."""

    async def get(self, request_id: UUID) -> PrivacyJob | None: ...

    async def update(self, job: PrivacyJob) -> None: ...

    async def list_runnable(
        self, now: datetime, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[PrivacyJob]:
        """Pending jobs whose ``run_after`` has come, oldest first; with ``after`` (``run_after``, ``request_id``),
        only those that come after it (keyset paging)."""

    async def claim(self, request_id: UUID, owner: str, now: datetime, until: datetime) -> bool:
        """Take or renew a pending job's lease if free, expired or ``owner``'s (compare-and-set: one wins)."""

    async def release(self, request_id: UUID, owner: str) -> None: ...

    async def lock_expired_archives(self, now: datetime, limit: int) -> list[PrivacyJob]:
        """At most ``limit`` exports whose archive still exists and whose link expired before ``now``, oldest
        first, locked for this transaction (rows another transaction holds are skipped)."""

    async def count_expired_archives(self, now: datetime) -> int: ...

    async def clear_archives(self, request_ids: list[UUID], at: datetime) -> int:
        """Forget the archive keys of these jobs (their objects are deleted); returns how many changed."""

    async def delete_for_subject(self, subject_id: UUID) -> int: ...

    async def delete_for_requests(self, request_ids: list[UUID]) -> int: ...


class ErasureCompletionRepository(Protocol):
    async def add(self, completion: ErasureCompletion) -> None:
        """Raises ``Conflict`` if a completion with this id exists (so a resumed saga records it once)."""

    async def get(self, completion_id: UUID) -> ErasureCompletion | None: ...


class DataRightsStores(Protocol):
    """The data-rights module's stores in a unit of work."""

    privacy_requests: PrivacyRequestRepository
    privacy_request_events: RequestEventRepository
    privacy_jobs: PrivacyJobRepository
    erasure_completions: ErasureCompletionRepository
    restrictions: ProcessingRestrictions
