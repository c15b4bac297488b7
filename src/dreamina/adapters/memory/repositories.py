"""In-memory fakes of the repository ports and their unit of work, with real commit and rollback.

:class:`InMemoryDatabase` holds the committed rows in dicts. Each :class:`InMemoryUnitOfWork` stages its
writes over them (reads see committed rows plus its own writes, like READ COMMITTED), checks the same unique
and foreign-key rules as the SQL schema on every write and again at commit, and applies everything at once on
commit; leaving without commit discards the staged writes. Records are copied on the way in and out, so
callers can never mutate stored state. Input the SQL adapters refuse (NUL characters, naive datetimes) is
refused here too.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, TypeVar
from uuid import UUID

from dreamina.adapters.record_rules import check_text, check_texts, check_time
from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.domain.privacy.policy import PolicyVersion
from dreamina.ports.audit import AuditEvent, AuditLog
from dreamina.ports.billing import BillingRepository
from dreamina.ports.child_reports import ChildReport, ChildReportRepository
from dreamina.ports.consent import (
    AnalyticsEvent,
    AnalyticsEventStore,
    ConsentRecord,
    ConsentRecordRepository,
    Objection,
    ObjectionRepository,
    PolicyNotice,
    PolicyNoticeRepository,
)
from dreamina.ports.data_rights import (
    ErasureCompletionRepository,
    PrivacyJobRepository,
    PrivacyRequestRepository,
    RequestEventRepository,
)
from dreamina.ports.disclosures import Disclosure, DisclosureLedger
from dreamina.ports.generation import (
    Generation,
    GenerationRepository,
    Upload,
    UploadRepository,
)
from dreamina.ports.identity import Account, AccountRepository, AccountStatus, AuthSession, SessionRepository
from dreamina.ports.keys import SubjectKey, SubjectKeyRepository
from dreamina.ports.policy import PolicyAcceptance, PolicyAcceptanceRepository, PolicyVersionRepository
from dreamina.ports.restrictions import ProcessingRestrictions
from dreamina.ports.staff import StaffMember, StaffRepository
from dreamina.ports.support import SupportTicket, SupportTicketRepository

K = TypeVar("K")
V = TypeVar("V")


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def retention_batch(rows: Iterable[V], due: Callable[[V], bool], order: Callable[[V], Any], limit: int) -> list[V]:
    """The fakes' version of a sweep batch: at most ``limit`` due rows, oldest first."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    return sorted((row for row in rows if due(row)), key=order)[:limit]


class _Deleted:
    pass


_DELETED = _Deleted()


@dataclasses.dataclass(frozen=True, slots=True)
class _Unique(Generic[V]):
    """A unique index: the column it covers and the ``Conflict`` message a duplicate gets."""

    column: Callable[[V], object]
    message: str


class _Table(Generic[K, V]):
    """One table as a unit of work sees it: the committed rows overlaid with its own staged writes."""

    def __init__(self, committed: dict[K, V], unique: tuple[_Unique[V], ...] = (), duplicate_key: str = "") -> None:
        self._committed = committed
        self._staged: dict[K, V | _Deleted] = {}
        self._inserted: set[K] = set()  # keys this unit of work created (a primary key to re-check at commit)
        self._unique = unique
        self._duplicate_key = duplicate_key or "this record already exists"

    def get(self, key: K) -> V | None:
        if key in self._staged:
            staged = self._staged[key]
            return None if isinstance(staged, _Deleted) else staged
        return self._committed.get(key)

    def rows(self) -> Iterator[tuple[K, V]]:
        for key, value in self._committed.items():
            if key not in self._staged:
                yield key, value
        for key, staged in self._staged.items():
            if not isinstance(staged, _Deleted):
                yield key, staged

    def insert(self, key: K, value: V) -> None:
        if self.get(key) is not None:
            raise Conflict(self._duplicate_key)
        self._check_unique(key, value, self.rows())
        self._staged[key] = value
        self._inserted.add(key)

    def replace(self, key: K, value: V) -> None:
        self._check_unique(key, value, self.rows())
        self._staged[key] = value

    def delete(self, key: K) -> bool:
        if self.get(key) is None:
            return False
        if key in self._inserted:  # created and removed here: nothing to apply
            self._inserted.discard(key)
            del self._staged[key]
        else:
            self._staged[key] = _DELETED
        return True

    def check_commit(self) -> None:
        """Re-check staged rows against what other units of work committed meanwhile."""
        if any(key in self._committed for key in self._inserted):
            raise Conflict(self._duplicate_key)
        merged = dict(self._committed)
        for key, staged in self._staged.items():
            if isinstance(staged, _Deleted):
                merged.pop(key, None)
            else:
                merged[key] = staged
        for key, staged in self._staged.items():
            if isinstance(staged, _Deleted):
                continue
            self._check_unique(key, staged, merged.items())

    def apply(self) -> None:
        for key, staged in self._staged.items():
            if isinstance(staged, _Deleted):
                self._committed.pop(key, None)
            else:
                self._committed[key] = staged
        self.discard()

    def discard(self) -> None:
        self._staged.clear()
        self._inserted.clear()

    def _check_unique(self, key: K, value: V, rows: Iterable[tuple[K, V]]) -> None:
        if not self._unique:
            return
        others = [other for other_key, other in rows if other_key != key]
        for index in self._unique:
            wanted = index.column(value)
            if any(index.column(other) == wanted for other in others):
                raise Conflict(index.message)


class InMemoryDatabase:
    """The committed state of every in-memory repository; hands out units of work over it."""

    def __init__(self) -> None:
        self.accounts: dict[UUID, Account] = {}
        self.sessions: dict[UUID, AuthSession] = {}
        self.subject_keys: dict[UUID, SubjectKey] = {}
        self.policies: dict[int, PolicyVersion] = {}
        self.acceptances: dict[UUID, PolicyAcceptance] = {}
        self.audit: dict[UUID, AuditEvent] = {}
        self.disclosures: dict[UUID, Disclosure] = {}
        self.commits = 0
        self.consent_records: dict[int, ConsentRecord] = {}
        self.consent_sequence = itertools.count(1)
        self.objections: dict[tuple[UUID, str], Objection] = {}
        self.policy_notices: dict[UUID, PolicyNotice] = {}
        self.analytics_events: dict[UUID, AnalyticsEvent] = {}
        self.staff: dict[UUID, StaffMember] = {}
        self.privacy_requests: dict[UUID, Any] = {}
        self.privacy_request_events: dict[UUID, Any] = {}
        self.privacy_jobs: dict[UUID, Any] = {}
        self.erasure_completions: dict[UUID, Any] = {}
        self.restrictions: dict[UUID, Any] = {}
        self.uploads: dict[UUID, Upload] = {}
        self.generations: dict[UUID, Generation] = {}
        self.billing = _billing_tables()
        self.child_reports: dict[UUID, ChildReport] = {}
        self.support_tickets: dict[UUID, SupportTicket] = {}

    def unit_of_work(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)

    def row_counts(self) -> dict[str, int]:
        """Committed rows per table, named as the SQL tables are (for "nothing was stored" assertions)."""
        return {
            "accounts": len(self.accounts),
            "subject_keys": len(self.subject_keys),
            "auth_sessions": len(self.sessions),
            "policy_versions": len(self.policies),
            "policy_acceptances": len(self.acceptances),
            "audit_events": len(self.audit),
            "disclosures": len(self.disclosures),
            "consent_records": len(self.consent_records),
            "objections": len(self.objections),
            "policy_notices": len(self.policy_notices),
            "analytics_events": len(self.analytics_events),
            "staff_members": len(self.staff),
            "privacy_requests": len(self.privacy_requests),
            "privacy_request_events": len(self.privacy_request_events),
            "privacy_jobs": len(self.privacy_jobs),
            "erasure_completions": len(self.erasure_completions),
            "uploads": len(self.uploads),
            "generations": len(self.generations),
            "generation_references": sum(len(g.reference_upload_ids) for g in self.generations.values()),
            "processing_restrictions": len(self.restrictions),
            **self.billing.row_counts(),
            "child_reports": len(self.child_reports),
            "support_tickets": len(self.support_tickets),
        }


# --- repositories -------------------------------------------------------------------------------------------


class InMemoryAccountRepository:
    def __init__(self, table: _Table[UUID, Account], sessions: _Table[UUID, AuthSession] | None = None) -> None:
        self._table = table
        self._sessions = sessions  # deleted with their account, as the SQL foreign key cascades

    async def add(self, account: Account) -> None:
        stored = _stored_account(account)
        self._table.insert(stored.id, stored)

    async def get(self, account_id: UUID) -> Account | None:
        found = self._table.get(account_id)
        return None if found is None else dataclasses.replace(found)

    async def get_by_email_index(self, email_index: str) -> Account | None:
        check_text("email_index", email_index)
        found = next((a for _, a in self._table.rows() if a.email_index == email_index), None)
        return None if found is None else dataclasses.replace(found)

    async def update(self, account: Account) -> None:
        stored = _stored_account(account)
        if self._table.get(stored.id) is None:
            raise NotFound("no such account")
        self._table.replace(stored.id, stored)

    async def delete(self, account_id: UUID) -> bool:
        if self._sessions is not None:
            for key, session in list(self._sessions.rows()):
                if session.account_id == account_id:
                    self._sessions.delete(key)
        return self._table.delete(account_id)


def _stored_account(account: Account) -> Account:
    check_text("email_index", account.email_index)
    check_text("country", account.country)
    check_text("region", account.region)
    check_text("password_hash", account.password_hash)
    check_text("status", account.status)
    check_time("created_at", account.created_at)
    check_time("updated_at", account.updated_at)
    return dataclasses.replace(
        account,
        email_ciphertext=bytes(account.email_ciphertext),
        display_name_ciphertext=None
        if account.display_name_ciphertext is None
        else bytes(account.display_name_ciphertext),
        birth_date_ciphertext=bytes(account.birth_date_ciphertext),
        status=AccountStatus(account.status),
        created_at=_utc(account.created_at),
        updated_at=_utc(account.updated_at),
    )


class InMemorySessionRepository:
    def __init__(self, table: _Table[UUID, AuthSession], accounts: _Table[UUID, Account]) -> None:
        self._table = table
        self._accounts = accounts

    async def add(self, session: AuthSession) -> None:
        check_text("token_hash", session.token_hash)
        check_time("created_at", session.created_at)
        check_time("expires_at", session.expires_at)
        if self._accounts.get(session.account_id) is None:
            raise NotFound("the record refers to something that does not exist")
        stored = dataclasses.replace(session, created_at=_utc(session.created_at), expires_at=_utc(session.expires_at))
        self._table.insert(stored.id, stored)

    async def get_by_token_hash(self, token_hash: str) -> AuthSession | None:
        check_text("token_hash", token_hash)
        return next((s for _, s in self._table.rows() if s.token_hash == token_hash), None)

    async def delete(self, session_id: UUID) -> bool:
        return self._table.delete(session_id)

    async def delete_for_account(self, account_id: UUID) -> int:
        doomed = [key for key, s in self._table.rows() if s.account_id == account_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def delete_expired(self, now: datetime, limit: int) -> int:
        check_time("now", now)
        if limit < 0:
            raise ValueError("limit must not be negative")
        expired = sorted((s for _, s in self._table.rows() if s.expires_at < now), key=lambda s: s.expires_at)
        for session in expired[:limit]:
            self._table.delete(session.id)
        return len(expired[:limit])

    async def count_expired(self, now: datetime) -> int:
        check_time("now", now)
        return sum(1 for _, s in self._table.rows() if s.expires_at < now)


class InMemorySubjectKeyRepository:
    def __init__(self, table: _Table[UUID, SubjectKey]) -> None:
        self._table = table

    async def add(self, key: SubjectKey) -> None:
        check_time("created_at", key.created_at)
        check_time("destroyed_at", key.destroyed_at)
        stored = dataclasses.replace(
            key,
            wrapped_key=None if key.wrapped_key is None else bytes(key.wrapped_key),
            created_at=_utc(key.created_at),
            destroyed_at=_utc_or_none(key.destroyed_at),
        )
        self._table.insert(stored.subject_id, stored)

    async def get(self, subject_id: UUID) -> SubjectKey | None:
        found = self._table.get(subject_id)
        return None if found is None else dataclasses.replace(found)

    async def destroy(self, subject_id: UUID, at: datetime) -> bool:
        check_time("at", at)
        found = self._table.get(subject_id)
        if found is None or found.wrapped_key is None:
            return False
        self._table.replace(subject_id, dataclasses.replace(found, wrapped_key=None, destroyed_at=_utc(at)))
        return True

    async def delete(self, subject_id: UUID) -> bool:
        return self._table.delete(subject_id)


class InMemoryPolicyVersionRepository:
    def __init__(self, table: _Table[int, PolicyVersion]) -> None:
        self._table = table

    async def add(self, policy: PolicyVersion) -> None:
        check_text("text", policy.text)
        check_text("content_sha256", policy.content_sha256)
        check_time("effective_at", policy.effective_at)
        check_time("published_at", policy.published_at)
        stored = dataclasses.replace(
            policy, effective_at=_utc(policy.effective_at), published_at=_utc(policy.published_at)
        )
        self._table.insert(stored.version, stored)

    async def get(self, version: int) -> PolicyVersion | None:
        return self._table.get(version)

    async def list(self) -> list[PolicyVersion]:
        return sorted((p for _, p in self._table.rows()), key=lambda p: p.version)


class InMemoryPolicyAcceptanceRepository:
    def __init__(self, table: _Table[UUID, PolicyAcceptance]) -> None:
        self._table = table

    async def add(self, acceptance: PolicyAcceptance) -> None:
        check_text("content_sha256", acceptance.content_sha256)
        check_text("method", acceptance.method)
        check_time("accepted_at", acceptance.accepted_at)
        stored = dataclasses.replace(acceptance, accepted_at=_utc(acceptance.accepted_at))
        self._table.insert(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[PolicyAcceptance]:
        found = (a for _, a in self._table.rows() if a.subject_id == subject_id)
        return sorted(found, key=lambda a: (a.accepted_at, a.id))

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, a in self._table.rows() if a.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)


class InMemoryAuditLog:
    def __init__(self, table: _Table[UUID, AuditEvent]) -> None:
        self._table = table

    async def append(self, event: AuditEvent) -> None:
        check_text("actor_kind", event.actor_kind)
        check_text("action", event.action)
        check_texts("fields", event.fields)
        check_text("reason", event.reason)
        check_time("occurred_at", event.occurred_at)
        stored = dataclasses.replace(event, fields=tuple(event.fields), occurred_at=_utc(event.occurred_at))
        self._table.insert(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[AuditEvent]:
        found = (e for _, e in self._table.rows() if e.subject_id == subject_id)
        return sorted(found, key=lambda e: (e.occurred_at, e.id))

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        changed = 0
        for key, event in list(self._table.rows()):
            if subject_id in (event.subject_id, event.actor_id):
                self._table.replace(
                    key,
                    dataclasses.replace(
                        event,
                        subject_id=pseudonym if event.subject_id == subject_id else event.subject_id,
                        actor_id=pseudonym if event.actor_id == subject_id else event.actor_id,
                        reason=None,
                    ),
                )
                changed += 1
        return changed

    async def count_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, e in self._table.rows() if e.occurred_at < cutoff)

    async def delete_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        rows = (e for _, e in self._table.rows())
        batch = retention_batch(rows, lambda e: e.occurred_at < cutoff, lambda e: e.occurred_at, limit)
        for event in batch:
            self._table.delete(event.id)
        return len(batch)


class InMemoryDisclosureLedger:
    def __init__(self, table: _Table[UUID, Disclosure]) -> None:
        self._table = table

    async def record(self, disclosure: Disclosure) -> None:
        check_text("processor", disclosure.processor)
        check_texts("categories", disclosure.categories)
        check_text("purpose", disclosure.purpose)
        check_text("reference", disclosure.reference)
        check_time("occurred_at", disclosure.occurred_at)
        stored = dataclasses.replace(
            disclosure, categories=tuple(disclosure.categories), occurred_at=_utc(disclosure.occurred_at)
        )
        self._table.insert(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[Disclosure]:
        found = (d for _, d in self._table.rows() if d.subject_id == subject_id)
        return sorted(found, key=lambda d: (d.occurred_at, d.id))

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        doomed = [(key, d) for key, d in self._table.rows() if d.subject_id == subject_id]
        for key, disclosure in doomed:
            self._table.replace(key, dataclasses.replace(disclosure, subject_id=pseudonym, reference=None))
        return len(doomed)


# --- unit of work -------------------------------------------------------------------------------------------


class InMemoryUnitOfWork:
    """:class:`~dreamina.ports.unit_of_work.UnitOfWork` over an :class:`InMemoryDatabase`. Single use."""

    accounts: AccountRepository
    sessions: SessionRepository
    subject_keys: SubjectKeyRepository
    policies: PolicyVersionRepository
    acceptances: PolicyAcceptanceRepository
    audit: AuditLog
    disclosures: DisclosureLedger
    consent_records: ConsentRecordRepository
    objections: ObjectionRepository
    policy_notices: PolicyNoticeRepository
    analytics_events: AnalyticsEventStore
    staff: StaffRepository
    privacy_requests: PrivacyRequestRepository
    privacy_request_events: RequestEventRepository
    privacy_jobs: PrivacyJobRepository
    erasure_completions: ErasureCompletionRepository
    uploads: UploadRepository
    generations: GenerationRepository
    restrictions: ProcessingRestrictions
    billing: BillingRepository
    child_reports: ChildReportRepository
    support_tickets: SupportTicketRepository

    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database
        self._tables: tuple[_Table[Any, Any], ...] = ()
        self._active = False
        self._used = False
        self.committed = False  # for assertions: did the last commit go through

    async def __aenter__(self) -> InMemoryUnitOfWork:
        if self._used:
            raise RuntimeError("a unit of work is single use; make a new one")
        self._used = True
        self._active = True
        db = self._database
        accounts: _Table[UUID, Account] = _Table(
            db.accounts,
            (_Unique(lambda a: a.email_index, "an account with this id or email already exists"),),
            "an account with this id or email already exists",
        )
        sessions: _Table[UUID, AuthSession] = _Table(
            db.sessions,
            (_Unique(lambda s: s.token_hash, "a session with this id or token already exists"),),
            "a session with this id or token already exists",
        )
        subject_keys: _Table[UUID, SubjectKey] = _Table(db.subject_keys, (), "the subject already has a data key")
        policies: _Table[int, PolicyVersion] = _Table(db.policies, (), "this policy version already exists")
        acceptances: _Table[UUID, PolicyAcceptance] = _Table(db.acceptances, (), "this acceptance is already recorded")
        audit: _Table[UUID, AuditEvent] = _Table(db.audit, (), "this audit event is already recorded")
        disclosures: _Table[UUID, Disclosure] = _Table(db.disclosures, (), "this disclosure is already recorded")
        self.accounts = InMemoryAccountRepository(accounts, sessions)
        self.sessions = InMemorySessionRepository(sessions, accounts)
        self.subject_keys = InMemorySubjectKeyRepository(subject_keys)
        self.policies = InMemoryPolicyVersionRepository(policies)
        self.acceptances = InMemoryPolicyAcceptanceRepository(acceptances)
        self.audit = InMemoryAuditLog(audit)
        self.disclosures = InMemoryDisclosureLedger(disclosures)
        from dreamina.adapters.memory.generation import InMemoryGenerationRepository, InMemoryUploadRepository

        uploads: _Table[UUID, Upload] = _Table(db.uploads, (), "this upload already exists")
        generations: _Table[UUID, Generation] = _Table(db.generations, (), "this generation already exists")
        self.uploads = InMemoryUploadRepository(uploads, generations, accounts)
        self.generations = InMemoryGenerationRepository(generations, uploads, accounts)
        self._tables = (
            accounts,
            sessions,
            subject_keys,
            policies,
            acceptances,
            audit,
            disclosures,
            uploads,
            generations,
        )
        self._tables += self._enter_consent(accounts)
        self._attach_data_rights()
        self.billing, billing_staged = _billing_repository(db.billing)
        self._tables = (*self._tables, *billing_staged)
        self._attach_child_reports()
        self._attach_support()
        return self

    def _attach_support(self) -> None:
        from dreamina.adapters.memory.support import InMemorySupportTicketRepository

        tickets: _Table[UUID, SupportTicket] = _Table(self._database.support_tickets, (), "this ticket already exists")
        self.support_tickets = InMemorySupportTicketRepository(tickets)
        self._tables = (*self._tables, tickets)

    def _enter_consent(self, accounts: _Table[UUID, Account]) -> tuple[_Table[Any, Any], ...]:
        from dreamina.adapters.memory.consent import (
            InMemoryAnalyticsEventStore,
            InMemoryConsentRecordRepository,
            InMemoryObjectionRepository,
            InMemoryPolicyNoticeRepository,
            InMemoryStaffRepository,
        )

        db = self._database
        consent: _Table[int, ConsentRecord] = _Table(db.consent_records, (), "this consent record already exists")
        objections: _Table[tuple[UUID, str], Objection] = _Table(db.objections)
        notices: _Table[UUID, PolicyNotice] = _Table(
            db.policy_notices,
            (_Unique(lambda n: (n.subject_id, n.policy_version), "the subject was already notified of this version"),),
        )
        analytics: _Table[UUID, AnalyticsEvent] = _Table(db.analytics_events)
        staff: _Table[UUID, StaffMember] = _Table(db.staff)
        self.consent_records = InMemoryConsentRecordRepository(consent, db.consent_sequence)
        self.objections = InMemoryObjectionRepository(objections)
        self.policy_notices = InMemoryPolicyNoticeRepository(notices, accounts)
        self.analytics_events = InMemoryAnalyticsEventStore(analytics)
        self.staff = InMemoryStaffRepository(staff)
        return (consent, objections, notices, analytics, staff)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()
        self._active = False

    async def commit(self) -> None:
        self._require_active()
        # Check everything first, then apply everything: a commit is all or nothing.
        try:
            for table in self._tables:
                table.check_commit()
        except Conflict:
            await self.rollback()
            raise
        for table in self._tables:
            table.apply()
        self._database.commits += 1
        self.committed = True

    async def rollback(self) -> None:
        self._require_active()
        for table in self._tables:
            table.discard()

    def _attach_data_rights(self) -> None:
        from dreamina.adapters.memory import data_rights as dr

        db = self._database
        requests: _Table[UUID, Any] = _Table(db.privacy_requests, (), "this request already exists")
        events: _Table[UUID, Any] = _Table(db.privacy_request_events, (), "this event is already recorded")
        jobs: _Table[UUID, Any] = _Table(db.privacy_jobs, (), "the request already has a job")
        completions: _Table[UUID, Any] = _Table(
            db.erasure_completions, (), "this erasure is already recorded as complete"
        )
        restrictions: _Table[UUID, Any] = _Table(db.restrictions, (), "the subject is already restricted")
        self.privacy_requests = dr.InMemoryPrivacyRequestRepository(requests)
        self.privacy_request_events = dr.InMemoryRequestEventRepository(events)
        self.privacy_jobs = dr.InMemoryPrivacyJobRepository(jobs)
        self.erasure_completions = dr.InMemoryErasureCompletionRepository(completions)
        self.restrictions = dr.InMemoryProcessingRestrictions(restrictions)
        self._tables = (*self._tables, requests, events, jobs, completions, restrictions)

    def _attach_child_reports(self) -> None:
        from dreamina.adapters.memory.child_reports import InMemoryChildReportRepository

        reports: _Table[UUID, ChildReport] = _Table(self._database.child_reports, (), "this report already exists")
        self.child_reports = InMemoryChildReportRepository(reports)
        self._tables = (*self._tables, reports)

    def _require_active(self) -> None:
        if not self._active:
            raise RuntimeError("the unit of work is not active; use it as `async with uow: ...`")


def _billing_tables() -> Any:
    from dreamina.adapters.memory.billing import BillingTables  # the billing fake builds on this module

    return BillingTables()


def _billing_repository(tables: Any) -> tuple[BillingRepository, tuple[_Table[Any, Any], ...]]:
    from dreamina.adapters.memory.billing import billing_tables

    return billing_tables(tables)
