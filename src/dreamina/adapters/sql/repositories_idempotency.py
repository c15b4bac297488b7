"""Kept answers of requests with an ``Idempotency-Key`` over SQL (``idempotency_records``).

The primary key is (subject, route, key): on PostgreSQL a second insert of the same key waits for the transaction
holding the first, then fails (``Conflict``) if that one commits; on SQLite writers take turns, so the second sees
the first's row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, tuple_

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_kernel import IdempotencyRecordRow
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, retention_batch
from dreamina.ports.idempotency import IdempotencyRecord

_Row = IdempotencyRecordRow


def _record(row: Any) -> IdempotencyRecord:
    return IdempotencyRecord(
        subject_id=row.subject_id,
        route=row.route,
        key=row.key,
        fingerprint=row.fingerprint,
        status=row.status,
        body=row.body,
        created_at=row.created_at,
    )


class SqlIdempotencyRecords(SqlRepository):
    """:class:`~dreamina.ports.idempotency.IdempotencyRecords` over ``idempotency_records``."""

    async def get(self, subject_id: UUID, route: str, key: str) -> IdempotencyRecord | None:
        statement = select(_Row).where(_Row.subject_id == subject_id, _Row.route == route, _Row.key == key)
        row = (await self._session.execute(statement)).scalar_one_or_none()
        return None if row is None else _record(row)

    async def add(self, record: IdempotencyRecord) -> None:
        for name in ("route", "key", "fingerprint", "body"):
            check_text(name, getattr(record, name))
        check_time("created_at", record.created_at)
        await self._write(
            insert(_Row).values(
                subject_id=record.subject_id,
                route=record.route,
                key=record.key,
                fingerprint=record.fingerprint,
                status=record.status,
                body=record.body,
                created_at=record.created_at,
            ),
            conflict="this idempotency key already has an answer",
        )

    async def count_for_subject(self, subject_id: UUID) -> int:
        statement = select(func.count()).select_from(_Row).where(_Row.subject_id == subject_id)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(delete(_Row).where(_Row.subject_id == subject_id))

    async def count_created_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = select(func.count()).select_from(_Row).where(_Row.created_at < cutoff)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_created_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        oldest = select(_Row.subject_id, _Row.route, _Row.key).where(_Row.created_at < cutoff).order_by(_Row.created_at)
        batch = retention_batch(oldest, limit)
        return await self._execute_count(delete(_Row).where(tuple_(_Row.subject_id, _Row.route, _Row.key).in_(batch)))


REPOSITORIES: SqlRepositories = {"idempotency_records": SqlIdempotencyRecords}
"""The store of kept answers, by its name in the unit of work."""
