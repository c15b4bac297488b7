"""In-memory fakes of the privacy kernel's repositories: subjects' data keys, the audit log, the disclosure ledger."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from dreamina.adapters.memory.tables import (
    MemoryStores,
    Table,
    TableSpec,
    retention_batch,
    utc,
    utc_or_none,
)
from dreamina.adapters.record_rules import check_text, check_texts, check_time
from dreamina.ports.audit import ActorKind, AuditCursor, AuditEvent, AuditQuery
from dreamina.ports.disclosures import Disclosure, DisclosureGroup
from dreamina.ports.keys import SubjectKey


class InMemorySubjectKeyRepository:
    def __init__(self, table: Table[UUID, SubjectKey]) -> None:
        self._table = table

    async def add(self, key: SubjectKey) -> None:
        check_time("created_at", key.created_at)
        check_time("destroyed_at", key.destroyed_at)
        stored = dataclasses.replace(
            key,
            wrapped_key=None if key.wrapped_key is None else bytes(key.wrapped_key),
            created_at=utc(key.created_at),
            destroyed_at=utc_or_none(key.destroyed_at),
        )
        self._table.insert(stored.subject_id, stored)

    async def get(self, subject_id: UUID) -> SubjectKey | None:
        found = self._table.get(subject_id)
        return None if found is None else dataclasses.replace(found)

    async def destroy(self, subject_id: UUID, at: datetime) -> bool:
        check_time("at", at)
        found = self._table.get(subject_id)
        if found is None or found.wrapped_key is None:
            return False
        self._table.replace(subject_id, dataclasses.replace(found, wrapped_key=None, destroyed_at=utc(at)))
        return True

    async def delete(self, subject_id: UUID) -> bool:
        return self._table.delete(subject_id)


class InMemoryAuditLog:
    def __init__(self, table: Table[UUID, AuditEvent]) -> None:
        self._table = table

    async def append(self, event: AuditEvent) -> None:
        check_text("actor_kind", event.actor_kind)
        check_text("action", event.action)
        check_texts("fields", event.fields)
        check_text("reason", event.reason)
        check_time("occurred_at", event.occurred_at)
        stored = dataclasses.replace(
            event,
            actor_kind=ActorKind(event.actor_kind),
            fields=tuple(event.fields),
            occurred_at=utc(event.occurred_at),
        )
        self._table.insert(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[AuditEvent]:
        found = (e for _, e in self._table.rows() if e.subject_id == subject_id)
        return sorted(found, key=lambda e: (e.occurred_at, e.id))

    async def count_for_subject(self, subject_id: UUID) -> int:
        return sum(1 for _, e in self._table.rows() if e.subject_id == subject_id)

    async def page_for_subject(
        self, subject_id: UUID, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[AuditEvent]:
        return _page_after(await self.list_for_subject(subject_id), limit, after)

    async def search(self, query: AuditQuery, limit: int, before: AuditCursor | None = None) -> list[AuditEvent]:
        check_time("since", query.since)
        check_time("until", query.until)
        check_time("before", None if before is None else before.occurred_at)
        check_text("action_prefix", query.action_prefix)

        def wanted(e: AuditEvent) -> bool:
            return (
                (query.action_prefix is None or e.action.startswith(query.action_prefix))
                and (query.actor_kind is None or e.actor_kind == query.actor_kind)
                and (query.actor_id is None or e.actor_id == query.actor_id)
                and (query.subject_id is None or e.subject_id == query.subject_id)
                and (query.since is None or e.occurred_at >= query.since)
                and (query.until is None or e.occurred_at < query.until)
                and (before is None or (e.occurred_at, e.id) < (before.occurred_at, before.id))
            )

        found = sorted((e for _, e in self._table.rows() if wanted(e)), key=lambda e: (e.occurred_at, e.id))
        return found[::-1][: max(limit, 0)]

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        changed = 0
        for key, event in list(self._table.rows()):
            if subject_id in (event.subject_id, event.actor_id):
                self._table.replace(
                    key,
                    dataclasses.replace(
                        event,
                        subject_id=pseudonym if event.subject_id == subject_id else event.subject_id,
                        actor_id=pseudonym if event.actor_id == subject_id else event.actor_id,
                        reason=None,
                    ),
                )
                changed += 1
        return changed

    async def count_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, e in self._table.rows() if e.occurred_at < cutoff)

    async def delete_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        rows = (e for _, e in self._table.rows())
        batch = retention_batch(rows, lambda e: e.occurred_at < cutoff, lambda e: e.occurred_at, limit)
        for event in batch:
            self._table.delete(event.id)
        return len(batch)

    async def prepare_periods(self, now: datetime) -> None:
        check_time("now", now)  # one table, no periods: everything goes by batches

    async def drop_periods_before(self, cutoff: datetime) -> int | None:
        check_time("cutoff", cutoff)
        return None


class InMemoryDisclosureLedger:
    def __init__(self, table: Table[UUID, Disclosure]) -> None:
        self._table = table

    async def record(self, disclosure: Disclosure) -> None:
        check_text("processor", disclosure.processor)
        check_texts("categories", disclosure.categories)
        check_text("purpose", disclosure.purpose)
        check_text("reference", disclosure.reference)
        check_time("occurred_at", disclosure.occurred_at)
        stored = dataclasses.replace(
            disclosure, categories=tuple(disclosure.categories), occurred_at=utc(disclosure.occurred_at)
        )
        self._table.insert(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[Disclosure]:
        found = (d for _, d in self._table.rows() if d.subject_id == subject_id)
        return sorted(found, key=lambda d: (d.occurred_at, d.id))

    async def page_for_subject(
        self, subject_id: UUID, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[Disclosure]:
        return _page_after(await self.list_for_subject(subject_id), limit, after)

    async def groups_for_subject(self, subject_id: UUID) -> list[DisclosureGroup]:
        groups: dict[tuple[str, str, tuple[str, ...]], list[Disclosure]] = {}
        for disclosure in await self.list_for_subject(subject_id):
            key = (disclosure.processor, disclosure.purpose, disclosure.categories)
            groups.setdefault(key, []).append(disclosure)
        return [
            DisclosureGroup(
                processor=processor,
                purpose=purpose,
                categories=categories,
                count=len(members),
                improvement_allowed=sum(d.improvement_allowed for d in members),
                first=min(d.occurred_at for d in members),
                last=max(d.occurred_at for d in members),
            )
            for (processor, purpose, categories), members in groups.items()
        ]

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        doomed = [(key, d) for key, d in self._table.rows() if d.subject_id == subject_id]
        for key, disclosure in doomed:
            self._table.replace(key, dataclasses.replace(disclosure, subject_id=pseudonym, reference=None))
        return len(doomed)


STORES = MemoryStores(
    tables=(
        TableSpec("subject_keys", duplicate_key="the subject already has a data key"),
        TableSpec("audit_events", duplicate_key="this audit event is already recorded"),
        TableSpec("disclosures", duplicate_key="this disclosure is already recorded"),
    ),
    repositories={
        "subject_keys": lambda s: InMemorySubjectKeyRepository(s.table("subject_keys")),
        "audit": lambda s: InMemoryAuditLog(s.table("audit_events")),
        "disclosures": lambda s: InMemoryDisclosureLedger(s.table("disclosures")),
    },
)


_Timed = TypeVar("_Timed", AuditEvent, Disclosure)


def _page_after(ordered: list[_Timed], limit: int, after: tuple[datetime, UUID] | None) -> list[_Timed]:
    """At most ``limit`` of ``ordered`` (oldest first, by ``occurred_at`` then ``id``) strictly after ``after``."""
    if after is not None:
        check_time("after", after[0])
        at, ident = utc(after[0]), after[1]
        ordered = [item for item in ordered if (item.occurred_at, item.id) > (at, ident)]
    return ordered[:limit]
