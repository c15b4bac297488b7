"""SQL adapters of the data-rights ports: requests, their events and jobs, completions, restrictions, objections."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, func, or_, select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_data_rights import (
    ErasureCompletionRow,
    PrivacyJobRow,
    PrivacyRequestEventRow,
    PrivacyRequestRow,
    ProcessingRestrictionRow,
)
from dreamina.adapters.sql.repository_kit import (
    DriverRead,
    SqlRepositories,
    SqlRepository,
    insert_into,
    oldest_first,
    retention_batch,
)
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

_REQUEST_TIMES = (
    "received_at",
    "due_at",
    "updated_at",
    "paused_since",
    "extended_at",
    "code_expires_at",
    "verified_at",
    "scheduled_for",
)


def _request_values(r: PrivacyRequest) -> dict[str, Any]:
    for name in ("type", "status", "jurisdiction", "extension_reason", "flag", "code_hash"):
        check_text(name, getattr(r, name))
    for name in _REQUEST_TIMES:
        check_time(name, getattr(r, name))
    return {
        "subject_id": r.subject_id,
        "type": RequestType(r.type).value,
        "status": RequestStatus(r.status).value,
        "jurisdiction": r.jurisdiction,
        "received_at": r.received_at,
        "due_at": r.due_at,
        "updated_at": r.updated_at,
        "details_ciphertext": r.details_ciphertext,
        "paused_since": r.paused_since,
        "paused_seconds": r.paused_seconds,
        "extended_at": r.extended_at,
        "extension_reason": r.extension_reason,
        "flag": None if r.flag is None else DeadlineFlag(r.flag).value,
        "code_hash": r.code_hash,
        "code_expires_at": r.code_expires_at,
        "code_attempts": r.code_attempts,
        "codes_sent": r.codes_sent,
        "verified_at": r.verified_at,
        "scheduled_for": r.scheduled_for,
        "outcome": dict(r.outcome),
    }


def _values(statuses: Statuses) -> list[str]:
    return [RequestStatus(s).value for s in statuses]


def _request(row: Any) -> PrivacyRequest:
    return PrivacyRequest(
        id=row.id,
        subject_id=row.subject_id,
        type=RequestType(row.type),
        status=RequestStatus(row.status),
        jurisdiction=row.jurisdiction,
        received_at=row.received_at,
        due_at=row.due_at,
        updated_at=row.updated_at,
        details_ciphertext=None if row.details_ciphertext is None else bytes(row.details_ciphertext),
        paused_since=row.paused_since,
        paused_seconds=row.paused_seconds,
        extended_at=row.extended_at,
        extension_reason=row.extension_reason,
        flag=None if row.flag is None else DeadlineFlag(row.flag),
        code_hash=row.code_hash,
        code_expires_at=row.code_expires_at,
        code_attempts=row.code_attempts,
        codes_sent=row.codes_sent,
        verified_at=row.verified_at,
        scheduled_for=row.scheduled_for,
        outcome=dict(row.outcome),
    )


class SqlPrivacyRequestRepository(SqlRepository):
    """:class:`~dreamina.ports.data_rights.PrivacyRequestRepository` over ``privacy_requests``."""

    _table = PrivacyRequestRow.__table__

    async def add(self, request: PrivacyRequest) -> None:
        statement = insert_into(PrivacyRequestRow).values(id=request.id, **_request_values(request))
        await self._write(statement, conflict="this request already exists")

    async def get(self, request_id: UUID) -> PrivacyRequest | None:
        row = (await self._session.execute(select(self._table).where(PrivacyRequestRow.id == request_id))).first()
        return None if row is None else _request(row)

    async def update(self, request: PrivacyRequest) -> None:
        statement = (
            update(PrivacyRequestRow).where(PrivacyRequestRow.id == request.id).values(**_request_values(request))
        )
        if await self._write(statement, conflict="this request cannot be updated") == 0:
            raise NotFound("no such request")

    async def list_for_subject(self, subject_id: UUID) -> list[PrivacyRequest]:
        statement = (
            select(self._table)
            .where(PrivacyRequestRow.subject_id == subject_id)
            .order_by(PrivacyRequestRow.received_at.desc(), PrivacyRequestRow.id)
        )
        return [_request(row) for row in await self._session.execute(statement)]

    async def list_open(
        self, *, statuses: Statuses, type: RequestType | None = None, due_before: datetime | None = None, limit: int
    ) -> list[PrivacyRequest]:
        check_time("due_before", due_before)
        statement = select(self._table).where(PrivacyRequestRow.status.in_(_values(statuses)))
        if type is not None:
            statement = statement.where(PrivacyRequestRow.type == RequestType(type).value)
        if due_before is not None:
            statement = statement.where(PrivacyRequestRow.due_at < due_before)
        statement = statement.order_by(PrivacyRequestRow.due_at, PrivacyRequestRow.id).limit(max(0, limit))
        return [_request(row) for row in await self._session.execute(statement)]

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(delete(PrivacyRequestRow).where(PrivacyRequestRow.subject_id == subject_id))

    async def count_expired_codes(self, now: datetime) -> int:
        check_time("now", now)
        statement = select(func.count()).select_from(PrivacyRequestRow).where(PrivacyRequestRow.code_expires_at < now)
        return int((await self._session.execute(statement)).scalar_one())

    async def clear_expired_codes(self, now: datetime, limit: int) -> int:
        check_time("now", now)
        expired = (
            select(PrivacyRequestRow.id)
            .where(PrivacyRequestRow.code_expires_at < now)
            .order_by(PrivacyRequestRow.code_expires_at)
        )
        batch = retention_batch(expired, limit).scalar_subquery()
        return await self._execute_count(
            update(PrivacyRequestRow)
            .where(PrivacyRequestRow.id.in_(batch))
            .values(code_hash=None, code_expires_at=None)
        )

    async def count_closed_before(self, statuses: Statuses, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = (
            select(func.count())
            .select_from(PrivacyRequestRow)
            .where(PrivacyRequestRow.status.in_(_values(statuses)), PrivacyRequestRow.updated_at < cutoff)
        )
        return int((await self._session.execute(statement)).scalar_one())

    async def lock_closed_before(self, statuses: Statuses, cutoff: datetime, limit: int) -> list[UUID]:
        check_time("cutoff", cutoff)
        closed = (
            select(PrivacyRequestRow.id)
            .where(PrivacyRequestRow.status.in_(_values(statuses)), PrivacyRequestRow.updated_at < cutoff)
            .order_by(PrivacyRequestRow.updated_at)
        )
        return list((await self._session.execute(retention_batch(closed, limit))).scalars())

    async def delete_many(self, request_ids: list[UUID]) -> int:
        if not request_ids:
            return 0
        return await self._execute_count(delete(PrivacyRequestRow).where(PrivacyRequestRow.id.in_(request_ids)))


def _event(row: Any) -> RequestEvent:
    return RequestEvent(
        id=row.id,
        request_id=row.request_id,
        subject_id=row.subject_id,
        status=RequestStatus(row.status),
        actor_kind=ActorKind(row.actor_kind),
        actor_id=row.actor_id,
        note=row.note,
        occurred_at=row.occurred_at,
    )


class SqlRequestEventRepository(SqlRepository):
    """:class:`~dreamina.ports.data_rights.RequestEventRepository` over ``privacy_request_events``."""

    _table = PrivacyRequestEventRow.__table__

    async def append(self, event: RequestEvent) -> None:
        check_text("status", event.status)
        check_text("actor_kind", event.actor_kind)
        check_text("note", event.note)
        check_time("occurred_at", event.occurred_at)
        statement = insert_into(PrivacyRequestEventRow).values(
            id=event.id,
            request_id=event.request_id,
            subject_id=event.subject_id,
            status=RequestStatus(event.status).value,
            actor_kind=ActorKind(event.actor_kind).value,
            actor_id=event.actor_id,
            note=event.note,
            occurred_at=event.occurred_at,
        )
        await self._write(statement, conflict="this event is already recorded")

    async def list_for_request(self, request_id: UUID) -> list[RequestEvent]:
        statement = (
            select(self._table)
            .where(PrivacyRequestEventRow.request_id == request_id)
            .order_by(PrivacyRequestEventRow.occurred_at, PrivacyRequestEventRow.id)
        )
        return [_event(row) for row in await self._session.execute(statement)]

    async def delete_for_subject(self, subject_id: UUID) -> int:
        statement = delete(PrivacyRequestEventRow).where(PrivacyRequestEventRow.subject_id == subject_id)
        return await self._execute_count(statement)

    async def delete_for_requests(self, request_ids: list[UUID]) -> int:
        if not request_ids:
            return 0
        statement = delete(PrivacyRequestEventRow).where(PrivacyRequestEventRow.request_id.in_(request_ids))
        return await self._execute_count(statement)


def _job_values(job: PrivacyJob) -> dict[str, Any]:
    check_text("kind", job.kind)
    check_text("state", job.state)
    check_text("archive_key", job.archive_key)
    for name in ("run_after", "updated_at", "expires_at"):
        check_time(name, getattr(job, name))
    return {
        "subject_id": job.subject_id,
        "kind": JobKind(job.kind).value,
        "state": JobState(job.state).value,
        "run_after": job.run_after,
        "updated_at": job.updated_at,
        "completion_id": job.completion_id,
        "steps_done": list(job.steps_done),
        "attempts": job.attempts,
        "archive_key": job.archive_key,
        "archive_bytes": job.archive_bytes,
        "expires_at": job.expires_at,
        "processor_calls": [dict(call) for call in job.processor_calls],
    }


def _job(row: Any) -> PrivacyJob:
    return PrivacyJob(
        request_id=row.request_id,
        subject_id=row.subject_id,
        kind=JobKind(row.kind),
        state=JobState(row.state),
        run_after=row.run_after,
        updated_at=row.updated_at,
        completion_id=row.completion_id,
        steps_done=tuple(row.steps_done),
        attempts=row.attempts,
        archive_key=row.archive_key,
        archive_bytes=row.archive_bytes,
        expires_at=row.expires_at,
        processor_calls=tuple(dict(call) for call in row.processor_calls),
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
    )


class SqlPrivacyJobRepository(SqlRepository):
    """:class:`~dreamina.ports.data_rights.PrivacyJobRepository` over ``privacy_jobs``."""

    _table = PrivacyJobRow.__table__

    async def add(self, job: PrivacyJob) -> None:
        statement = insert_into(PrivacyJobRow).values(request_id=job.request_id, **_job_values(job))
        await self._write(statement, conflict="the request already has a job")

    async def get(self, request_id: UUID) -> PrivacyJob | None:
        statement = select(self._table).where(PrivacyJobRow.request_id == request_id)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _job(row)

    async def delete_for_requests(self, request_ids: list[UUID]) -> int:
        if not request_ids:
            return 0
        return await self._execute_count(delete(PrivacyJobRow).where(PrivacyJobRow.request_id.in_(request_ids)))

    async def update(self, job: PrivacyJob) -> None:
        statement = update(PrivacyJobRow).where(PrivacyJobRow.request_id == job.request_id).values(**_job_values(job))
        if await self._write(statement, conflict="the job cannot be updated") == 0:
            raise NotFound("no such job")

    async def list_runnable(
        self, now: datetime, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[PrivacyJob]:
        check_time("now", now)
        statement = select(self._table).where(
            PrivacyJobRow.state == JobState.PENDING.value, PrivacyJobRow.run_after <= now
        )
        statement = oldest_first(statement, PrivacyJobRow.run_after, PrivacyJobRow.request_id, after, limit)
        return [_job(row) for row in await self._session.execute(statement)]

    async def claim(self, request_id: UUID, owner: str, now: datetime, until: datetime) -> bool:
        check_time("now", now)
        check_time("until", until)
        statement = (
            update(PrivacyJobRow)
            .where(
                PrivacyJobRow.request_id == request_id,
                PrivacyJobRow.state == JobState.PENDING.value,
                or_(
                    PrivacyJobRow.lease_owner.is_(None),
                    PrivacyJobRow.lease_owner == owner,
                    PrivacyJobRow.lease_until < now,
                ),
            )
            .values(lease_owner=owner, lease_until=until)
        )
        return await self._execute_count(statement) == 1

    async def release(self, request_id: UUID, owner: str) -> None:
        statement = (
            update(PrivacyJobRow)
            .where(PrivacyJobRow.request_id == request_id, PrivacyJobRow.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
        await self._execute_count(statement)

    @staticmethod
    def _expired_archive(now: datetime) -> tuple[Any, ...]:
        return (PrivacyJobRow.expires_at < now, PrivacyJobRow.archive_key.is_not(None))

    async def lock_expired_archives(self, now: datetime, limit: int) -> list[PrivacyJob]:
        check_time("now", now)
        expired = (
            select(self._table)
            .where(*self._expired_archive(now))
            .order_by(PrivacyJobRow.expires_at, PrivacyJobRow.request_id)
        )
        return [_job(row) for row in await self._session.execute(retention_batch(expired, limit))]

    async def count_expired_archives(self, now: datetime) -> int:
        check_time("now", now)
        statement = select(func.count()).select_from(PrivacyJobRow).where(*self._expired_archive(now))
        return int((await self._session.execute(statement)).scalar_one())

    async def clear_archives(self, request_ids: list[UUID], at: datetime) -> int:
        check_time("at", at)
        if not request_ids:
            return 0
        return await self._execute_count(
            update(PrivacyJobRow)
            .where(PrivacyJobRow.request_id.in_(request_ids), PrivacyJobRow.archive_key.is_not(None))
            .values(archive_key=None, updated_at=at)
        )

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(delete(PrivacyJobRow).where(PrivacyJobRow.subject_id == subject_id))


class SqlErasureCompletionRepository(SqlRepository):
    """:class:`~dreamina.ports.data_rights.ErasureCompletionRepository` over ``erasure_completions``."""

    _table = ErasureCompletionRow.__table__

    async def add(self, completion: ErasureCompletion) -> None:
        check_time("completed_at", completion.completed_at)
        statement = insert_into(ErasureCompletionRow).values(
            id=completion.id, completed_at=completion.completed_at, outcome=dict(completion.outcome)
        )
        await self._write(statement, conflict="this erasure is already recorded as complete")

    async def get(self, completion_id: UUID) -> ErasureCompletion | None:
        statement = select(self._table).where(ErasureCompletionRow.id == completion_id)
        row = (await self._session.execute(statement)).first()
        if row is None:
            return None
        return ErasureCompletion(id=row.id, completed_at=row.completed_at, outcome=dict(row.outcome))


class SqlProcessingRestrictions(SqlRepository):
    """:class:`~dreamina.ports.restrictions.ProcessingRestrictions` over ``processing_restrictions``."""

    _table = ProcessingRestrictionRow.__table__
    _by_subject = DriverRead(select(_table).where(_table.c.subject_id == bindparam("subject_id")))  # a hot check

    async def is_restricted(self, subject_id: UUID) -> bool:
        return await self.get(subject_id) is not None

    async def get(self, subject_id: UUID) -> ProcessingRestriction | None:
        row = await self._by_subject.first(self._session, {"subject_id": subject_id})
        if row is None:
            return None
        return ProcessingRestriction(subject_id=row.subject_id, restricted_at=row.restricted_at, reason=row.reason)

    async def restrict(self, subject_id: UUID, reason: str | None, at: datetime) -> None:
        check_text("reason", reason)
        check_time("at", at)
        if await self.get(subject_id) is not None:
            return
        statement = insert_into(ProcessingRestrictionRow).values(subject_id=subject_id, restricted_at=at, reason=reason)
        await self._write(statement, conflict="the subject is already restricted")

    async def lift(self, subject_id: UUID, at: datetime) -> None:
        check_time("at", at)
        await self._execute_count(
            delete(ProcessingRestrictionRow).where(ProcessingRestrictionRow.subject_id == subject_id)
        )

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(
            delete(ProcessingRestrictionRow).where(ProcessingRestrictionRow.subject_id == subject_id)
        )


REPOSITORIES: SqlRepositories = {
    "privacy_requests": SqlPrivacyRequestRepository,
    "privacy_request_events": SqlRequestEventRepository,
    "privacy_jobs": SqlPrivacyJobRepository,
    "erasure_completions": SqlErasureCompletionRepository,
    "restrictions": SqlProcessingRestrictions,
}
"""The data-rights module's stores, by their name in the unit of work."""
