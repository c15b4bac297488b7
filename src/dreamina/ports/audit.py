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


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which events a staff search of the trail asks for; every filter left None matches every event.

    ``action_prefix`` matches actions starting with it (case-sensitive: "privacy_request." finds every state change
    of a privacy request); ``since`` is included and ``until`` is not."""

    action_prefix: str | None = None
    actor_kind: ActorKind | None = None
    actor_id: UUID | None = None
    subject_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """Where a page of the trail (newest first) ended: the next page holds the events strictly older than this
    event, ordered by ``(occurred_at, id)`` like every listing of the trail."""

    occurred_at: datetime
    id: UUID


class AuditLog(Protocol):
    async def append(self, event: AuditEvent) -> None: ...

    async def list_for_subject(self, subject_id: UUID) -> list[AuditEvent]:
        """The subject's events, oldest first."""
        ...

    async def count_for_subject(self, subject_id: UUID) -> int:
        """How many events are about the subject (counted by the store: none is loaded)."""
        ...

    async def page_for_subject(
        self, subject_id: UUID, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[AuditEvent]:
        """At most ``limit`` of the subject's events, oldest first, strictly after ``after`` (``occurred_at``,
        ``id``): :meth:`list_for_subject` a page at a time (an export streams them)."""
        ...

    async def search(self, query: AuditQuery, limit: int, before: AuditCursor | None = None) -> list[AuditEvent]:
        """At most ``limit`` events matching ``query``, newest first (``occurred_at`` then ``id``, both
        descending), only those strictly before ``before`` when it is given (keyset pagination)."""
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
