"""The append-only audit trail: rectifications, staff access, request state changes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class ActorKind(enum.StrEnum):
    """Who acted on a subject's data: the subject, a staff member, or the system (sweeps, workers, sagas)."""

    SUBJECT = "subject"
    STAFF = "staff"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """Something done to a subject's data. ``fields`` names what changed, never the values."""

    id: UUID
    subject_id: UUID
    actor_kind: ActorKind
    actor_id: UUID | None
    action: str
    fields: tuple[str, ...]
    reason: str | None
    occurred_at: datetime


class AuditLog(Protocol):
    async def append(self, event: AuditEvent) -> None: ...

    async def list_for_subject(self, subject_id: UUID) -> list[AuditEvent]:
        """The subject's events, oldest first."""
        ...

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        """Erasure of a legal hold: the only rewrite the trail allows. Replaces the subject's id (as subject and
        as actor) with ``pseudonym`` and drops free-text reasons; returns how many events changed."""
        ...

    async def count_before(self, cutoff: datetime) -> int:
        """How many events happened before ``cutoff`` (retention dry runs)."""
        ...

    async def delete_before(self, cutoff: datetime, limit: int) -> int:
        """Retention: delete at most ``limit`` of the oldest events before ``cutoff`` (rows another transaction
        is deleting are skipped, not waited for); returns how many."""
        ...

    async def prepare_periods(self, now: datetime) -> None:
        """Retention by whole period: a log that keeps its events by period (a month) makes room for the current
        and the coming periods' events (a log without periods does nothing)."""
        ...

    async def drop_periods_before(self, cutoff: datetime) -> int | None:
        """Retention by whole period: remove at once a bounded run of whole periods that end at or before
        ``cutoff``, with every event in them; returns how many events went, or None when there is none to remove
        (or no periods are kept, or they cannot be removed now). The rest goes through ``delete_before``."""
        ...
