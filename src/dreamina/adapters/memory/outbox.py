"""In-memory fake of the mail outbox, staged and committed like the other memory tables."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, retention_batch, utc
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.ports.mail import QueuedMail


class InMemoryMailOutbox:
    def __init__(self, table: Table[UUID, QueuedMail]) -> None:
        self._table = table

    async def add(self, mail: QueuedMail) -> None:
        check_text("kind", mail.kind)
        check_time("queued_at", mail.queued_at)
        check_time("next_attempt_at", mail.next_attempt_at)
        stored = dataclasses.replace(
            mail,
            sealed=bytes(mail.sealed),
            wrapped_key=bytes(mail.wrapped_key),
            queued_at=utc(mail.queued_at),
            next_attempt_at=utc(mail.next_attempt_at or mail.queued_at),
        )
        self._table.insert(stored.id, stored)

    async def get(self, mail_id: UUID) -> QueuedMail | None:
        return self._table.get(mail_id)

    async def due(self, now: datetime, limit: int, subject_id: UUID | None = None) -> list[QueuedMail]:
        check_time("now", now)

        def is_due(m: QueuedMail) -> bool:
            return m.next_attempt_at is not None and m.next_attempt_at <= now and subject_id in (None, m.subject_id)

        return retention_batch(
            (m for _, m in self._table.rows()), is_due, lambda m: (m.next_attempt_at, m.queued_at), limit
        )

    async def claim(self, mail_id: UUID, attempts: int, until: datetime) -> bool:
        check_time("until", until)
        found = self._table.get(mail_id)
        if found is None or found.attempts != attempts:
            return False
        self._table.replace(mail_id, dataclasses.replace(found, attempts=attempts + 1, next_attempt_at=utc(until)))
        return True

    async def postpone(self, mail_id: UUID, until: datetime) -> None:
        check_time("until", until)
        found = self._table.get(mail_id)
        if found is not None:
            self._table.replace(mail_id, dataclasses.replace(found, next_attempt_at=utc(until)))

    async def delete(self, mail_id: UUID) -> bool:
        return self._table.delete(mail_id)

    async def count_for_subject(self, subject_id: UUID) -> int:
        return sum(1 for _, m in self._table.rows() if m.subject_id == subject_id)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, m in self._table.rows() if m.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def count_queued_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, m in self._table.rows() if m.queued_at < cutoff)

    async def delete_queued_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        batch = retention_batch(
            (m for _, m in self._table.rows()), lambda m: m.queued_at < cutoff, lambda m: m.queued_at, limit
        )
        for mail in batch:
            self._table.delete(mail.id)
        return len(batch)


STORES = MemoryStores(
    tables=(TableSpec("mail_outbox", duplicate_key="this message is already queued"),),
    repositories={"mail_outbox": lambda s: InMemoryMailOutbox(s.table("mail_outbox"))},
)
