"""Answers kept for requests that carried an ``Idempotency-Key``: a retry with the same key gets the same answer and
has no second effect."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The answer a subject's request with ``key`` on ``route`` got, written with the effect it reports."""

    subject_id: UUID
    route: str  # which operation, e.g. "POST /v1/generations": one key may be used on each
    key: str  # the client's Idempotency-Key (1-255 printable ASCII)
    fingerprint: str  # SHA-256 of the request it answered: the same key with another request is refused
    status: int
    body: str = field(repr=False)  # the JSON answer as sent; may hold personal data
    created_at: datetime


class IdempotencyRecords(Protocol):
    """Keyed by (subject, route, key); kept for a day, deleted with the subject on erasure."""

    async def get(self, subject_id: UUID, route: str, key: str) -> IdempotencyRecord | None: ...

    async def add(self, record: IdempotencyRecord) -> None:
        """Store an answer; raises ``Conflict`` if the subject's key on the route already has one (a concurrent
        request with the same key got there first: on PostgreSQL the insert waits for that one to end)."""
        ...

    async def count_for_subject(self, subject_id: UUID) -> int: ...

    async def delete_for_subject(self, subject_id: UUID) -> int: ...

    async def count_created_before(self, cutoff: datetime) -> int: ...

    async def delete_created_before(self, cutoff: datetime, limit: int) -> int:
        """Delete at most ``limit`` of the oldest answers stored before ``cutoff``."""
        ...


class IdempotencyStores(Protocol):
    """The store of kept answers in a unit of work."""

    idempotency_records: IdempotencyRecords
