"""In-memory fakes of the data-rights ports, over the tables of an :class:`InMemoryDatabase` unit of work."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, retention_batch, utc, utc_or_none
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.errors import NotFound
from dreamina.domain.privacy.jurisdictions import DeadlineFlag
from dreamina.ports.audit import ActorKind
from dreamina.ports.data_rights import (
    ErasureCompletion,
    JobKind,
    JobState,
    PrivacyJob,
    PrivacyRequest,
    RequestEvent,
    RequestStatus,
    RequestType,
    Statuses,
)
from dreamina.ports.restrictions import ProcessingRestriction


def _stored_request(r: PrivacyRequest) -> PrivacyRequest:
    for name in ("type", "status", "jurisdiction", "extension_reason", "flag", "code_hash"):
        check_text(name, getattr(r, name))
    times: dict[str, Any] = {}
    for name in (
        "received_at",
        "due_at",
        "updated_at",
        "paused_since",
        "extended_at",
        "code_expires_at",
        "verified_at",
        "scheduled_for",
    ):
        check_time(name, getattr(r, name))
        times[name] = utc_or_none(getattr(r, name))
    return dataclasses.replace(
        r,
        type=RequestType(r.type),
        status=RequestStatus(r.status),
        flag=None if r.flag is None else DeadlineFlag(r.flag),
        details_ciphertext=None if r.details_ciphertext is None else bytes(r.details_ciphertext),
        outcome=_json_copy(r.outcome),
        **times,
    )


def _json_copy(value: dict[str, object]) -> dict[str, object]:
    import json

    copied: dict[str, object] = json.loads(json.dumps(value))
    return copied


class InMemoryPrivacyRequestRepository:
    def __init__(self, table: Table[UUID, PrivacyRequest]) -> None:
        self._table = table

    async def add(self, request: PrivacyRequest) -> None:
        stored = _stored_request(request)
        self._table.insert(stored.id, stored)

    async def get(self, request_id: UUID) -> PrivacyRequest | None:
        found = self._table.get(request_id)
        return None if found is None else _stored_request(found)

    async def update(self, request: PrivacyRequest) -> None:
        stored = _stored_request(request)
        if self._table.get(stored.id) is None:
            raise NotFound("no such request")
        self._table.replace(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[PrivacyRequest]:
        found = [_stored_request(r) for _, r in self._table.rows() if r.subject_id == subject_id]
        found.sort(key=lambda r: r.id)
        found.sort(key=lambda r: r.received_at, reverse=True)
        return found

    async def list_open(
        self, *, statuses: Statuses, type: RequestType | None = None, due_before: datetime | None = None, limit: int
    ) -> list[PrivacyRequest]:
        check_time("due_before", due_before)
        found = [
            _stored_request(r)
            for _, r in self._table.rows()
            if r.status in statuses
            and (type is None or r.type == type)
            and (due_before is None or r.due_at < due_before)
        ]
        return sorted(found, key=lambda r: (r.due_at, r.id))[: max(0, limit)]

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, r in self._table.rows() if r.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    @staticmethod
    def _code_expired(now: datetime) -> Any:
        return lambda r: r.code_expires_at is not None and r.code_expires_at < now

    async def count_expired_codes(self, now: datetime) -> int:
        check_time("now", now)
        return sum(1 for _, r in self._table.rows() if self._code_expired(now)(r))

    async def clear_expired_codes(self, now: datetime, limit: int) -> int:
        check_time("now", now)
        rows = (r for _, r in self._table.rows())
        batch = retention_batch(rows, self._code_expired(now), lambda r: r.code_expires_at, limit)
        for request in batch:
            self._table.replace(request.id, dataclasses.replace(request, code_hash=None, code_expires_at=None))
        return len(batch)

    async def count_closed_before(self, statuses: Statuses, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, r in self._table.rows() if r.status in statuses and r.updated_at < cutoff)

    async def lock_closed_before(self, statuses: Statuses, cutoff: datetime, limit: int) -> list[UUID]:
        check_time("cutoff", cutoff)
        rows = (r for _, r in self._table.rows())
        batch = retention_batch(
            rows, lambda r: r.status in statuses and r.updated_at < cutoff, lambda r: r.updated_at, limit
        )
        return [r.id for r in batch]

    async def delete_many(self, request_ids: list[UUID]) -> int:
        return sum(1 for request_id in request_ids if self._table.delete(request_id))


class InMemoryRequestEventRepository:
    def __init__(self, table: Table[UUID, RequestEvent]) -> None:
        self._table = table

    async def append(self, event: RequestEvent) -> None:
        check_text("status", event.status)
        check_text("actor_kind", event.actor_kind)
        check_text("note", event.note)
        check_time("occurred_at", event.occurred_at)
        stored = dataclasses.replace(
            event,
            status=RequestStatus(event.status),
            actor_kind=ActorKind(event.actor_kind),
            occurred_at=utc(event.occurred_at),
        )
        self._table.insert(event.id, stored)

    async def list_for_request(self, request_id: UUID) -> list[RequestEvent]:
        found = (e for _, e in self._table.rows() if e.request_id == request_id)
        return sorted(found, key=lambda e: (e.occurred_at, e.id))

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, e in self._table.rows() if e.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def delete_for_requests(self, request_ids: list[UUID]) -> int:
        wanted = set(request_ids)
        doomed = [key for key, e in self._table.rows() if e.request_id in wanted]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)


def _stored_job(job: PrivacyJob) -> PrivacyJob:
    check_text("kind", job.kind)
    check_text("state", job.state)
    check_text("archive_key", job.archive_key)
    for name in ("run_after", "updated_at", "expires_at", "lease_until"):
        check_time(name, getattr(job, name))
    return dataclasses.replace(
        job,
        lease_until=utc_or_none(job.lease_until),
        kind=JobKind(job.kind),
        state=JobState(job.state),
        run_after=utc(job.run_after),
        updated_at=utc(job.updated_at),
        expires_at=utc_or_none(job.expires_at),
        steps_done=tuple(job.steps_done),
        processor_calls=tuple(_json_copy(dict(call)) for call in job.processor_calls),
    )


class InMemoryPrivacyJobRepository:
    def __init__(self, table: Table[UUID, PrivacyJob]) -> None:
        self._table = table

    async def add(self, job: PrivacyJob) -> None:
        stored = _stored_job(job)
        self._table.insert(stored.request_id, stored)

    async def get(self, request_id: UUID) -> PrivacyJob | None:
        found = self._table.get(request_id)
        return None if found is None else _stored_job(found)

    async def update(self, job: PrivacyJob) -> None:
        stored = _stored_job(job)
        current = self._table.get(stored.request_id)
        if current is None:
            raise NotFound("no such job")
        kept = dataclasses.replace(stored, lease_owner=current.lease_owner, lease_until=current.lease_until)
        self._table.replace(stored.request_id, kept)  # the lease is claim's and release's alone

    async def claim(self, request_id: UUID, owner: str, now: datetime, until: datetime) -> bool:
        check_time("now", now)
        check_time("until", until)
        job = self._table.get(request_id)
        if job is None or job.state != JobState.PENDING:
            return False
        if job.lease_owner not in (None, owner) and job.lease_until is not None and job.lease_until >= now:
            return False
        self._table.replace(request_id, dataclasses.replace(job, lease_owner=owner, lease_until=utc(until)))
        return True

    async def release(self, request_id: UUID, owner: str) -> None:
        job = self._table.get(request_id)
        if job is not None and job.lease_owner == owner:
            self._table.replace(request_id, dataclasses.replace(job, lease_owner=None, lease_until=None))

    async def list_runnable(
        self, now: datetime, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[PrivacyJob]:
        check_time("now", now)
        found = [_stored_job(j) for _, j in self._table.rows() if j.state == JobState.PENDING and j.run_after <= now]
        if after is not None:
            check_time("after", after[0])
            found = [j for j in found if (j.run_after, j.request_id.bytes) > (after[0], after[1].bytes)]
        return sorted(found, key=lambda j: (j.run_after, j.request_id.bytes))[: max(0, limit)]

    @staticmethod
    def _archive_expired(now: datetime) -> Any:
        return lambda j: j.archive_key is not None and j.expires_at is not None and j.expires_at < now

    async def lock_expired_archives(self, now: datetime, limit: int) -> list[PrivacyJob]:
        check_time("now", now)
        rows = (j for _, j in self._table.rows())
        batch = retention_batch(rows, self._archive_expired(now), lambda j: (j.expires_at, j.request_id), limit)
        return [_stored_job(j) for j in batch]

    async def count_expired_archives(self, now: datetime) -> int:
        check_time("now", now)
        return sum(1 for _, j in self._table.rows() if self._archive_expired(now)(j))

    async def clear_archives(self, request_ids: list[UUID], at: datetime) -> int:
        check_time("at", at)
        changed = 0
        for request_id in request_ids:
            job = self._table.get(request_id)
            if job is not None and job.archive_key is not None:
                self._table.replace(request_id, dataclasses.replace(job, archive_key=None, updated_at=utc(at)))
                changed += 1
        return changed

    async def delete_for_requests(self, request_ids: list[UUID]) -> int:
        return sum(1 for request_id in request_ids if self._table.delete(request_id))

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, j in self._table.rows() if j.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)


class InMemoryErasureCompletionRepository:
    def __init__(self, table: Table[UUID, ErasureCompletion]) -> None:
        self._table = table

    async def add(self, completion: ErasureCompletion) -> None:
        check_time("completed_at", completion.completed_at)
        stored = dataclasses.replace(
            completion, completed_at=utc(completion.completed_at), outcome=_json_copy(completion.outcome)
        )
        self._table.insert(stored.id, stored)

    async def get(self, completion_id: UUID) -> ErasureCompletion | None:
        return self._table.get(completion_id)


class InMemoryProcessingRestrictions:
    def __init__(self, table: Table[UUID, ProcessingRestriction]) -> None:
        self._table = table

    async def is_restricted(self, subject_id: UUID) -> bool:
        return self._table.get(subject_id) is not None

    async def get(self, subject_id: UUID) -> ProcessingRestriction | None:
        return self._table.get(subject_id)

    async def restrict(self, subject_id: UUID, reason: str | None, at: datetime) -> None:
        check_text("reason", reason)
        check_time("at", at)
        if self._table.get(subject_id) is None:
            self._table.insert(subject_id, ProcessingRestriction(subject_id, utc(at), reason))

    async def lift(self, subject_id: UUID, at: datetime) -> None:
        check_time("at", at)
        self._table.delete(subject_id)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return int(self._table.delete(subject_id))


STORES = MemoryStores(
    tables=(
        TableSpec("privacy_requests", duplicate_key="this request already exists"),
        TableSpec("privacy_request_events", duplicate_key="this event is already recorded"),
        TableSpec("privacy_jobs", duplicate_key="the request already has a job"),
        TableSpec("erasure_completions", duplicate_key="this erasure is already recorded as complete"),
        TableSpec("processing_restrictions", duplicate_key="the subject is already restricted"),
    ),
    repositories={
        "privacy_requests": lambda s: InMemoryPrivacyRequestRepository(s.table("privacy_requests")),
        "privacy_request_events": lambda s: InMemoryRequestEventRepository(s.table("privacy_request_events")),
        "privacy_jobs": lambda s: InMemoryPrivacyJobRepository(s.table("privacy_jobs")),
        "erasure_completions": lambda s: InMemoryErasureCompletionRepository(s.table("erasure_completions")),
        "restrictions": lambda s: InMemoryProcessingRestrictions(s.table("processing_restrictions")),
    },
)
