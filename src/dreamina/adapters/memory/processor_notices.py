"""In-memory fake of the processor-notification port, over a table of an :class:`InMemoryDatabase` unit of work."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, Unique, utc, utc_or_none
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.processor_notices import NoticeMethod, NoticeStatus, ProcessorNotification


def _stored(n: ProcessorNotification) -> ProcessorNotification:
    for name in ("processor", "idempotency_key", "outcome", "last_error"):
        check_text(name, getattr(n, name))
    for name in ("created_at", "next_attempt_at", "last_attempt_at", "finished_at"):
        check_time(name, getattr(n, name))
    return dataclasses.replace(
        n,
        method=NoticeMethod(n.method),
        status=NoticeStatus(n.status),
        created_at=utc(n.created_at),
        next_attempt_at=utc(n.next_attempt_at),
        last_attempt_at=utc_or_none(n.last_attempt_at),
        finished_at=utc_or_none(n.finished_at),
    )


def _order(n: ProcessorNotification) -> tuple[object, ...]:
    return (n.created_at, n.processor, n.id)


class InMemoryProcessorNotificationRepository:
    def __init__(self, table: Table[UUID, ProcessorNotification]) -> None:
        self._table = table

    async def add(self, notification: ProcessorNotification) -> None:
        self._table.insert(notification.id, _stored(notification))

    async def update(self, notification: ProcessorNotification) -> None:
        if self._table.get(notification.id) is None:
            raise NotFound("no such notification")
        self._table.replace(notification.id, _stored(notification))

    async def list_for_request(self, request_id: UUID) -> list[ProcessorNotification]:
        found = [dataclasses.replace(n) for _, n in self._table.rows() if n.request_id == request_id]
        return sorted(found, key=_order)

    async def list_by_status(self, statuses: tuple[NoticeStatus, ...], limit: int) -> list[ProcessorNotification]:
        found = [dataclasses.replace(n) for _, n in self._table.rows() if n.status in statuses]
        return sorted(found, key=_order)[: max(0, limit)]


_DUPLICATE = "the request already has a notification for this processor"

STORES = MemoryStores(
    tables=(
        TableSpec(
            "processor_notifications",
            unique=(Unique(lambda n: (n.request_id, n.processor), _DUPLICATE),),
            duplicate_key=_DUPLICATE,
        ),
    ),
    repositories={
        "processor_notifications": lambda s: InMemoryProcessorNotificationRepository(s.table("processor_notifications"))
    },
)
