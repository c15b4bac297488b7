"""In-memory fake of the kept answers of requests with an ``Idempotency-Key``, staged and committed like the other
memory tables: a second answer for the same (subject, route, key) is a ``Conflict``, at the latest at commit."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, retention_batch, utc
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.ports.idempotency import IdempotencyRecord

_Key = tuple[UUID, str, str]


class InMemoryIdempotencyRecords:
    def __init__(self, table: Table[_Key, IdempotencyRecord]) -> None:
        self._table = table

    async def get(self, subject_id: UUID, route: str, key: str) -> IdempotencyRecord | None:
        return self._table.get((subject_id, route, key))

    async def add(self, record: IdempotencyRecord) -> None:
        for name in ("route", "key", "fingerprint", "body"):
            check_text(name, getattr(record, name))
        check_time("created_at", record.created_at)
        stored = dataclasses.replace(record, created_at=utc(record.created_at))
        self._table.insert((record.subject_id, record.route, record.key), stored)

    async def count_for_subject(self, subject_id: UUID) -> int:
        return sum(1 for (subject, _, _), _record in self._table.rows() if subject == subject_id)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, _record in self._table.rows() if key[0] == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def count_created_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, r in self._table.rows() if r.created_at < cutoff)

    async def delete_created_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        batch = retention_batch(
            (r for _, r in self._table.rows()), lambda r: r.created_at < cutoff, lambda r: r.created_at, limit
        )
        for record in batch:
            self._table.delete((record.subject_id, record.route, record.key))
        return len(batch)


STORES = MemoryStores(
    tables=(TableSpec("idempotency_records", duplicate_key="this idempotency key already has an answer"),),
    repositories={"idempotency_records": lambda s: InMemoryIdempotencyRecords(s.table("idempotency_records"))},
)
