"""The privacy kernel's repositories over SQL: subjects' data keys, the audit log, the disclosure ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamina.adapters.record_rules import check_text, check_texts, check_time
from dreamina.adapters.sql import partitions
from dreamina.adapters.sql.models_kernel import AuditEventRow, DisclosureRow, SubjectKeyRow
from dreamina.adapters.sql.partitions import AUDIT_EVENTS, is_postgres
from dreamina.adapters.sql.repository_kit import (
    PREFETCHED_KEYS,
    DriverRead,
    SqlRepositories,
    SqlRepository,
    insert_into,
    retention_batch,
)
from dreamina.ports.audit import ActorKind, AuditCursor, AuditEvent, AuditQuery
from dreamina.ports.disclosures import Disclosure, DisclosureGroup
from dreamina.ports.keys import SubjectKey


def _subject_key(row: Any) -> SubjectKey:
    return SubjectKey(
        subject_id=row.subject_id,
        wrapped_key=None if row.wrapped_key is None else bytes(row.wrapped_key),
        created_at=row.created_at,
        destroyed_at=row.destroyed_at,
    )


KEY_ALONG = {
    "key_subject_id": SubjectKeyRow.__table__.c.subject_id,
    "key_wrapped_key": SubjectKeyRow.__table__.c.wrapped_key,
    "key_created_at": SubjectKeyRow.__table__.c.created_at,
    "key_destroyed_at": SubjectKeyRow.__table__.c.destroyed_at,
}
"""The labels under which a read-only unit of work's read brings its subject's data key along (an account, a page of
generations), so that the key's own read that follows is answered without a round trip."""


def keep_key_read_along(session: AsyncSession, subject_id: UUID, row: Any) -> None:
    """Remember the key ``row`` brought along under :data:`KEY_ALONG` (all NULL: the subject has none) for the unit
    of work's :meth:`SqlSubjectKeyRepository.get`."""
    key = None
    if row.key_subject_id is not None:
        wrapped = None if row.key_wrapped_key is None else bytes(row.key_wrapped_key)
        key = SubjectKey(row.key_subject_id, wrapped, row.key_created_at, row.key_destroyed_at)
    session.info.setdefault(PREFETCHED_KEYS, {})[subject_id] = key


class SqlSubjectKeyRepository(SqlRepository):
    """:class:`~dreamina.ports.keys.SubjectKeyRepository` over ``subject_keys``."""

    _table = SubjectKeyRow.__table__
    _by_subject = DriverRead(select(_table).where(_table.c.subject_id == bindparam("subject_id")))  # a hot read

    async def add(self, key: SubjectKey) -> None:
        check_time("created_at", key.created_at)
        check_time("destroyed_at", key.destroyed_at)
        statement = insert_into(SubjectKeyRow).values(
            subject_id=key.subject_id,
            wrapped_key=key.wrapped_key,
            created_at=key.created_at,
            destroyed_at=key.destroyed_at,
        )
        await self._write(statement, conflict="the subject already has a data key")

    async def get(self, subject_id: UUID) -> SubjectKey | None:
        prefetched = self._session.info.get(PREFETCHED_KEYS)  # read along (keep_key_read_along; a reader only)
        if prefetched is not None and subject_id in prefetched:
            return prefetched[subject_id]  # type: ignore[no-any-return]
        row = await self._by_subject.first(self._session, {"subject_id": subject_id})
        return None if row is None else _subject_key(row)

    async def destroy(self, subject_id: UUID, at: datetime) -> bool:
        check_time("at", at)
        statement = (
            update(SubjectKeyRow)
            .where(SubjectKeyRow.subject_id == subject_id, SubjectKeyRow.wrapped_key.is_not(None))
            .values(wrapped_key=None, destroyed_at=at)
        )
        return await self._execute_count(statement) > 0

    async def delete(self, subject_id: UUID) -> bool:
        return await self._execute_count(delete(SubjectKeyRow).where(SubjectKeyRow.subject_id == subject_id)) > 0


def _audit_event(row: Any) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        subject_id=row.subject_id,
        actor_kind=ActorKind(row.actor_kind),
        actor_id=row.actor_id,
        action=row.action,
        fields=tuple(row.fields),
        reason=row.reason,
        occurred_at=row.occurred_at,
    )


class SqlAuditLog(SqlRepository):
    """:class:`~dreamina.ports.audit.AuditLog` over ``audit_events`` (append-only: no update or delete).

    On PostgreSQL the table is partitioned by month of ``occurred_at`` (``partitions.py``) and its primary key is
    ``(id, occurred_at)``: an event appended twice (a retry) is refused as before, while the same id at another time
    would not be, as it is on SQLite. Event ids are random UUIDs made once per event, so nothing relies on that.
    """

    _table = AuditEventRow.__table__

    async def append(self, event: AuditEvent) -> None:
        check_text("actor_kind", event.actor_kind)
        check_text("action", event.action)
        check_texts("fields", event.fields)
        check_text("reason", event.reason)
        check_time("occurred_at", event.occurred_at)
        statement = insert_into(AuditEventRow).values(
            id=event.id,
            subject_id=event.subject_id,
            actor_kind=ActorKind(event.actor_kind).value,
            actor_id=event.actor_id,
            action=event.action,
            fields=list(event.fields),
            reason=event.reason,
            occurred_at=event.occurred_at,
        )
        await self._write(statement, conflict="this audit event is already recorded")

    async def list_for_subject(self, subject_id: UUID) -> list[AuditEvent]:
        statement = (
            select(self._table)
            .where(AuditEventRow.subject_id == subject_id)
            .order_by(AuditEventRow.occurred_at, AuditEventRow.id)
        )
        return [_audit_event(row) for row in await self._session.execute(statement)]

    async def count_for_subject(self, subject_id: UUID) -> int:
        return await self._count(self._table, AuditEventRow.subject_id == subject_id)

    async def page_for_subject(
        self, subject_id: UUID, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[AuditEvent]:
        statement = _oldest_after(self._table, self._table.c.subject_id == subject_id, limit, after)
        return [_audit_event(row) for row in await self._session.execute(statement)]

    async def search(self, query: AuditQuery, limit: int, before: AuditCursor | None = None) -> list[AuditEvent]:
        check_time("since", query.since)
        check_time("until", query.until)
        check_time("before", None if before is None else before.occurred_at)
        check_text("action_prefix", query.action_prefix)
        row = AuditEventRow
        statement = select(self._table)
        if query.action_prefix is not None:  # substr, not LIKE: SQLite's LIKE ignores case
            prefix = query.action_prefix
            statement = statement.where(func.substr(row.action, 1, len(prefix)) == prefix)
        if query.actor_kind is not None:
            statement = statement.where(row.actor_kind == ActorKind(query.actor_kind).value)
        if query.actor_id is not None:
            statement = statement.where(row.actor_id == query.actor_id)
        if query.subject_id is not None:
            statement = statement.where(row.subject_id == query.subject_id)
        if query.since is not None:
            statement = statement.where(row.occurred_at >= query.since)
        if query.until is not None:
            statement = statement.where(row.occurred_at < query.until)
        if before is not None:
            statement = statement.where(
                or_(
                    row.occurred_at < before.occurred_at,
                    and_(row.occurred_at == before.occurred_at, row.id < before.id),
                )
            )
        statement = statement.order_by(row.occurred_at.desc(), row.id.desc()).limit(max(limit, 0))
        return [_audit_event(found) for found in await self._session.execute(statement)]

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        touched = select(func.count()).where(
            or_(AuditEventRow.subject_id == subject_id, AuditEventRow.actor_id == subject_id)
        )
        changed = int((await self._session.execute(touched)).scalar_one())
        await self._execute_count(
            update(AuditEventRow).where(AuditEventRow.actor_id == subject_id).values(actor_id=pseudonym, reason=None)
        )
        await self._execute_count(
            update(AuditEventRow)
            .where(AuditEventRow.subject_id == subject_id)
            .values(subject_id=pseudonym, reason=None)
        )
        return changed

    async def count_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = select(func.count()).select_from(AuditEventRow).where(AuditEventRow.occurred_at < cutoff)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        if is_postgres(self._session):  # partitioned by month: whole months are dropped, the rest goes here
            return await partitions.delete_oldest(self._session, AUDIT_EVENTS, cutoff, limit)
        oldest = select(AuditEventRow.id).where(AuditEventRow.occurred_at < cutoff).order_by(AuditEventRow.occurred_at)
        batch = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(delete(AuditEventRow).where(AuditEventRow.id.in_(batch)))

    async def prepare_periods(self, now: datetime) -> None:
        check_time("now", now)
        if is_postgres(self._session):
            await partitions.prepare(self._session, AUDIT_EVENTS, now.date())

    async def drop_periods_before(self, cutoff: datetime) -> int | None:
        check_time("cutoff", cutoff)
        if not is_postgres(self._session):
            return None  # SQLite: one plain table, everything goes by batches
        return await partitions.drop_expired(self._session, AUDIT_EVENTS, cutoff)


def _disclosure(row: Any) -> Disclosure:
    return Disclosure(
        id=row.id,
        subject_id=row.subject_id,
        processor=row.processor,
        categories=tuple(row.categories),
        purpose=row.purpose,
        reference=row.reference,
        occurred_at=row.occurred_at,
        improvement_allowed=row.improvement_allowed,
    )


class SqlDisclosureLedger(SqlRepository):
    """:class:`~dreamina.ports.disclosures.DisclosureLedger` over ``disclosures``."""

    _table = DisclosureRow.__table__

    async def record(self, disclosure: Disclosure) -> None:
        check_text("processor", disclosure.processor)
        check_texts("categories", disclosure.categories)
        check_text("purpose", disclosure.purpose)
        check_text("reference", disclosure.reference)
        check_time("occurred_at", disclosure.occurred_at)
        statement = insert_into(DisclosureRow).values(
            id=disclosure.id,
            subject_id=disclosure.subject_id,
            processor=disclosure.processor,
            categories=list(disclosure.categories),
            purpose=disclosure.purpose,
            reference=disclosure.reference,
            occurred_at=disclosure.occurred_at,
            improvement_allowed=disclosure.improvement_allowed,
        )
        await self._write(statement, conflict="this disclosure is already recorded")

    async def list_for_subject(self, subject_id: UUID) -> list[Disclosure]:
        statement = (
            select(self._table)
            .where(DisclosureRow.subject_id == subject_id)
            .order_by(DisclosureRow.occurred_at, DisclosureRow.id)
        )
        return [_disclosure(row) for row in await self._session.execute(statement)]

    async def page_for_subject(
        self, subject_id: UUID, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[Disclosure]:
        table = DisclosureRow.__table__
        statement = _oldest_after(table, table.c.subject_id == subject_id, limit, after)
        return [_disclosure(row) for row in await self._session.execute(statement)]

    async def groups_for_subject(self, subject_id: UUID) -> list[DisclosureGroup]:
        table = DisclosureRow.__table__
        key = (table.c.processor, table.c.purpose, table.c.categories)
        statement = (
            select(
                *key,
                func.count().label("disclosures"),
                func.count().filter(table.c.improvement_allowed).label("improvement_allowed"),
                func.min(table.c.occurred_at).label("first"),
                func.max(table.c.occurred_at).label("last"),
            )
            .where(table.c.subject_id == subject_id)
            .group_by(*key)
        )
        return [
            DisclosureGroup(
                processor=row.processor,
                purpose=row.purpose,
                categories=tuple(row.categories),
                count=row.disclosures,
                improvement_allowed=row.improvement_allowed,
                first=row.first,
                last=row.last,
            )
            for row in await self._session.execute(statement)
        ]

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        statement = (
            update(DisclosureRow)
            .where(DisclosureRow.subject_id == subject_id)
            .values(subject_id=pseudonym, reference=None)
        )
        return await self._execute_count(statement)


def _oldest_after(table: Any, mine: Any, limit: int, after: tuple[datetime, UUID] | None) -> Any:
    """A page of ``table``'s rows matching ``mine``, oldest first (``occurred_at``, ``id``), strictly after
    ``after``: keyset paging, each page one range of the subject's index."""
    statement = select(table).where(mine)
    if after is not None:
        at, last = after
        check_time("after", at)
        later = or_(table.c.occurred_at > at, and_(table.c.occurred_at == at, table.c.id > last))
        statement = statement.where(later)
    return statement.order_by(table.c.occurred_at, table.c.id).limit(limit)


REPOSITORIES: SqlRepositories = {
    "subject_keys": SqlSubjectKeyRepository,
    "audit": SqlAuditLog,
    "disclosures": SqlDisclosureLedger,
}
"""The kernel's stores, by their name in the unit of work."""
