""":class:`~dreamina.ports.processor_notices.ProcessorNotificationRepository` over ``processor_notifications``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_processor_notices import ProcessorNotificationRow as Row
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.processor_notices import NoticeMethod, NoticeStatus, ProcessorNotification

_TEXT = ("processor", "idempotency_key", "outcome", "last_error")
_TIMES = ("created_at", "next_attempt_at", "last_attempt_at", "finished_at")


def _values(n: ProcessorNotification) -> dict[str, Any]:
    for name in _TEXT:
        check_text(name, getattr(n, name))
    for name in _TIMES:
        check_time(name, getattr(n, name))
    return {
        "request_id": n.request_id,
        "completion_id": n.completion_id,
        "processor": n.processor,
        "method": NoticeMethod(n.method).value,
        "status": NoticeStatus(n.status).value,
        "idempotency_key": n.idempotency_key,
        "attempts": n.attempts,
        "outcome": n.outcome,
        "last_error": n.last_error,
        **{name: getattr(n, name) for name in _TIMES},
    }


def _notification(row: Any) -> ProcessorNotification:
    return ProcessorNotification(
        id=row.id,
        request_id=row.request_id,
        completion_id=row.completion_id,
        processor=row.processor,
        method=NoticeMethod(row.method),
        status=NoticeStatus(row.status),
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        last_attempt_at=row.last_attempt_at,
        finished_at=row.finished_at,
        outcome=row.outcome,
        last_error=row.last_error,
    )


class SqlProcessorNotificationRepository(SqlRepository):
    _table = Row.__table__

    async def add(self, notification: ProcessorNotification) -> None:
        statement = insert(Row).values(id=notification.id, **_values(notification))
        await self._write(statement, conflict="the request already has a notification for this processor")

    async def update(self, notification: ProcessorNotification) -> None:
        statement = update(Row).where(Row.id == notification.id).values(**_values(notification))
        if await self._write(statement, conflict="the notification cannot be updated") == 0:
            raise NotFound("no such notification")

    async def list_for_request(self, request_id: UUID) -> list[ProcessorNotification]:
        statement = (
            select(self._table).where(Row.request_id == request_id).order_by(Row.created_at, Row.processor, Row.id)
        )
        return [_notification(row) for row in await self._session.execute(statement)]

    async def list_by_status(self, statuses: tuple[NoticeStatus, ...], limit: int) -> list[ProcessorNotification]:
        statement = (
            select(self._table)
            .where(Row.status.in_([NoticeStatus(s).value for s in statuses]))
            .order_by(Row.created_at, Row.processor, Row.id)
            .limit(max(0, limit))
        )
        return [_notification(row) for row in await self._session.execute(statement)]


REPOSITORIES: SqlRepositories = {"processor_notifications": SqlProcessorNotificationRepository}
"""The data-rights module's notification store, by its name in the unit of work."""
