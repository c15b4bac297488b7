"""In-memory fakes of the generation repositories (staged per unit of work like the others), a recording
fake of :class:`~dreamina.ports.generation.GenerationCharges`, and a scriptable model provider for tests."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, retention_batch, utc
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.ports.billing import BillingStores
from dreamina.ports.generation import (
    Generation,
    GenerationKind,
    GenerationPage,
    GenerationStatus,
    Upload,
)
from dreamina.ports.identity import Account


def _stored_upload(upload: Upload) -> Upload:
    check_text("object_key", upload.object_key)
    check_text("content_type", upload.content_type)
    check_time("created_at", upload.created_at)
    return dataclasses.replace(upload, created_at=utc(upload.created_at))


def _past_owner_retention(accounts: Table[UUID, Account], now: datetime) -> Callable[[UUID, datetime], bool]:
    """Whether a record of this owner made at that time is older than the owner's content-retention setting."""
    check_time("now", now)

    def due(subject_id: UUID, created_at: datetime) -> bool:
        owner = accounts.get(subject_id)
        days = None if owner is None else owner.content_retention_days
        return days is not None and created_at < now - timedelta(days=days)

    return due


class InMemoryUploadRepository:
    def __init__(
        self, table: Table[UUID, Upload], generations: Table[UUID, Generation], accounts: Table[UUID, Account]
    ) -> None:
        self._table = table
        self._generations = generations  # which uploads are still referenced, as SQL reads generation_references
        self._accounts = accounts

    async def add(self, upload: Upload) -> None:
        stored = _stored_upload(upload)
        self._table.insert(stored.id, stored)

    async def get(self, upload_id: UUID) -> Upload | None:
        return self._table.get(upload_id)

    async def delete(self, upload_id: UUID) -> bool:
        return self._table.delete(upload_id)

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: tuple[datetime, UUID] | None
    ) -> tuple[list[Upload], bool]:
        if before is not None:
            check_time("before", before[0])
        mine = [u for _, u in self._table.rows() if u.subject_id == subject_id]
        if before is not None:
            mine = [u for u in mine if (u.created_at, u.id) < (utc(before[0]), before[1])]
        found = sorted(mine, key=lambda u: (u.created_at, u.id), reverse=True)
        return found[:limit], len(found) > limit

    async def list_for_subject(self, subject_id: UUID) -> list[Upload]:
        found = [u for _, u in self._table.rows() if u.subject_id == subject_id]
        return sorted(found, key=lambda u: (u.created_at, u.id))

    async def count_for_subject(self, subject_id: UUID) -> int:
        return sum(1 for _, u in self._table.rows() if u.subject_id == subject_id)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        mine = [key for key, u in self._table.rows() if u.subject_id == subject_id]
        used = {u for _, g in self._generations.rows() for u in g.reference_upload_ids}
        if used.intersection(mine):
            raise Conflict("a generation still references one of these uploads")
        return sum(self._table.delete(key) for key in mine)

    def _unused_past_owner_retention(self, now: datetime) -> Callable[[Upload], bool]:
        past = _past_owner_retention(self._accounts, now)
        used = {u for _, g in self._generations.rows() for u in g.reference_upload_ids}
        return lambda upload: upload.id not in used and past(upload.subject_id, upload.created_at)

    async def count_unused_past_owner_retention(self, now: datetime) -> int:
        due = self._unused_past_owner_retention(now)
        return sum(1 for _, u in self._table.rows() if due(u))

    async def lock_unused_past_owner_retention(self, now: datetime, limit: int) -> list[Upload]:
        rows = (u for _, u in self._table.rows())
        return retention_batch(
            rows, self._unused_past_owner_retention(now), lambda u: (u.created_at, u.id.bytes), limit
        )


def _stored_generation(generation: Generation) -> Generation:
    check_text("provider", generation.provider)
    check_text("provider_job_id", generation.provider_job_id)
    check_text("failure_reason", generation.failure_reason)
    check_time("created_at", generation.created_at)
    check_time("updated_at", generation.updated_at)
    return dataclasses.replace(
        generation,
        kind=GenerationKind(generation.kind),
        status=GenerationStatus(generation.status),
        prompt_ciphertext=bytes(generation.prompt_ciphertext),
        params=dict(generation.params),
        reference_upload_ids=tuple(generation.reference_upload_ids),
        outputs=tuple(generation.outputs),
        created_at=utc(generation.created_at),
        updated_at=utc(generation.updated_at),
    )


class InMemoryGenerationRepository:
    def __init__(
        self, table: Table[UUID, Generation], uploads: Table[UUID, Upload], accounts: Table[UUID, Account]
    ) -> None:
        self._table = table
        self._uploads = uploads
        self._accounts = accounts  # the owners' content-retention setting, as the SQL adapter reads ``accounts``

    async def add(self, generation: Generation) -> None:
        stored = _stored_generation(generation)
        if any(self._uploads.get(u) is None for u in stored.reference_upload_ids):
            raise NotFound("the record refers to something that does not exist")
        self._table.insert(stored.id, stored)

    async def get(self, generation_id: UUID) -> Generation | None:
        found = self._table.get(generation_id)
        return None if found is None else _stored_generation(found)

    async def update(self, generation: Generation) -> None:
        current = self._table.get(generation.id)
        if current is None:
            raise NotFound("no such generation")
        stored = _stored_generation(generation)
        # only the mutable columns change, as in SQL
        self._table.replace(
            stored.id,
            dataclasses.replace(
                current,
                status=stored.status,
                provider_job_id=stored.provider_job_id,
                attempts=stored.attempts,
                failure_reason=stored.failure_reason,
                outputs=stored.outputs,
                updated_at=stored.updated_at,
            ),
        )

    async def delete(self, generation_id: UUID) -> bool:
        return self._table.delete(generation_id)

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: tuple[datetime, UUID] | None
    ) -> GenerationPage:
        mine = [g for _, g in self._table.rows() if g.subject_id == subject_id]
        mine.sort(key=lambda g: (g.created_at, g.id.bytes), reverse=True)
        if before is not None:
            at, ident = before
            mine = [g for g in mine if (g.created_at, g.id.bytes) < (utc(at), ident.bytes)]
        items = [_stored_generation(g) for g in mine[:limit]]
        more = len(mine) > limit
        return GenerationPage(items, (items[-1].created_at, items[-1].id) if more and items else None)

    async def count_referencing(self, upload_id: UUID) -> int:
        return sum(1 for _, g in self._table.rows() if upload_id in g.reference_upload_ids)

    async def count_for_subject(self, subject_id: UUID) -> tuple[int, int]:
        mine = [g for _, g in self._table.rows() if g.subject_id == subject_id]
        return len(mine), sum(len(g.reference_upload_ids) for g in mine)

    async def delete_for_subject(self, subject_id: UUID) -> tuple[int, int]:
        mine = [g for _, g in self._table.rows() if g.subject_id == subject_id]
        for generation in mine:
            self._table.delete(generation.id)
        return len(mine), sum(len(g.reference_upload_ids) for g in mine)

    async def unfinished(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[Generation]:
        found = [g for _, g in self._table.rows() if not GenerationStatus(g.status).terminal]
        if after is not None:
            check_time("after", after[0])
            found = [g for g in found if (g.created_at, g.id.bytes) > (after[0], after[1].bytes)]
        found.sort(key=lambda g: (g.created_at, g.id.bytes))
        return [_stored_generation(g) for g in found[: max(0, limit)]]

    async def unfinished_for_subject(self, subject_id: UUID, limit: int) -> list[Generation]:
        found = [
            g for _, g in self._table.rows() if g.subject_id == subject_id and not GenerationStatus(g.status).terminal
        ]
        found.sort(key=lambda g: (g.created_at, g.id.bytes))
        return [_stored_generation(g) for g in found[:limit]]

    def _past_owner_retention(self, now: datetime) -> Callable[[Generation], bool]:
        past = _past_owner_retention(self._accounts, now)
        return lambda generation: past(generation.subject_id, generation.created_at)

    async def count_past_owner_retention(self, now: datetime) -> int:
        due = self._past_owner_retention(now)
        return sum(1 for _, g in self._table.rows() if due(g))

    async def lock_past_owner_retention(self, now: datetime, limit: int) -> list[Generation]:
        rows = (g for _, g in self._table.rows())
        batch = retention_batch(rows, self._past_owner_retention(now), lambda g: (g.created_at, g.id.bytes), limit)
        return [_stored_generation(g) for g in batch]


def _references(tables: Mapping[str, dict[Any, Any]]) -> dict[str, int]:
    """SQL keeps a generation's references in a table of their own; the fake keeps them on the generation."""
    return {"generation_references": sum(len(g.reference_upload_ids) for g in tables["generations"].values())}


STORES = MemoryStores(
    tables=(
        TableSpec("uploads", duplicate_key="this upload already exists"),
        TableSpec("generations", duplicate_key="this generation already exists"),
    ),
    repositories={
        "uploads": lambda s: InMemoryUploadRepository(s.table("uploads"), s.table("generations"), s.table("accounts")),
        "generations": lambda s: InMemoryGenerationRepository(
            s.table("generations"), s.table("uploads"), s.table("accounts")
        ),
    },
    derived_counts=_references,
)


class RecordingCharges:
    """A :class:`~dreamina.ports.generation.GenerationCharges` fake that records every call and checks the
    protocol: one reserve, then at most one settlement (repeats of the same settlement are idempotent; a
    capture after a release or the reverse is a bug and raises)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, UUID]] = []
        self.reserved: dict[UUID, tuple[UUID, GenerationKind, int]] = {}
        self.settled: dict[UUID, str] = {}

    async def reserve(
        self, uow: BillingStores, subject_id: UUID, generation_id: UUID, kind: GenerationKind, units: int
    ) -> None:
        self.calls.append(("reserve", generation_id))
        self.reserved.setdefault(generation_id, (subject_id, kind, units))

    async def capture(self, generation_id: UUID) -> None:
        self._settle("capture", generation_id)

    async def release(self, generation_id: UUID) -> None:
        self._settle("release", generation_id)

    def _settle(self, how: str, generation_id: UUID) -> None:
        self.calls.append((how, generation_id))
        if generation_id not in self.reserved:
            raise AssertionError(f"{how} of a generation that was never reserved")
        previous = self.settled.setdefault(generation_id, how)
        if previous != how:
            raise AssertionError(f"{how} after {previous} for the same generation")

    def effective(self, generation_id: UUID) -> str | None:
        return self.settled.get(generation_id)


async def drain(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


class ManualJobQueue:
    """A :class:`~dreamina.ports.generation.JobQueue` fake: records jobs; tests run them with :meth:`drain`."""

    def __init__(self) -> None:
        self.pending: list[tuple[UUID, int, float]] = []
        self.enqueued: list[tuple[UUID, int, float]] = []

    async def enqueue(self, generation_id: UUID, *, attempt: int = 0, delay_seconds: float = 0.0) -> None:
        self.pending.append((generation_id, attempt, delay_seconds))
        self.enqueued.append((generation_id, attempt, delay_seconds))

    def holds(self, generation_id: UUID) -> bool:
        """Whether the job waits here (the reaper leaves those alone)."""
        return any(queued == generation_id for queued, _, _ in self.pending)

    async def drain(self, handler: Callable[[UUID], Awaitable[Any]], max_runs: int = 100) -> int:
        """Run queued jobs (delays skipped) until none are left; returns how many ran."""
        runs = 0
        while self.pending:
            if runs >= max_runs:
                raise AssertionError("jobs keep re-queuing themselves")
            generation_id, _, _ = self.pending.pop(0)
            await handler(generation_id)
            runs += 1
        return runs
