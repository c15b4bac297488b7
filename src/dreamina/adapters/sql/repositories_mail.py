"""The mail outbox over SQL (``mail_outbox``): messages written with the change they report, delivered after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_kernel import MailOutboxRow
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, insert_into, retention_batch
from dreamina.ports.mail import QueuedMail


def _mail(row: Any) -> QueuedMail:
    return QueuedMail(
        id=row.id,
        subject_id=row.subject_id,
        kind=row.kind,
        sealed=bytes(row.sealed),
        wrapped_key=bytes(row.wrapped_key),
        queued_at=row.queued_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
    )


class SqlMailOutbox(SqlRepository):
    """:class:`~dreamina.ports.mail.MailOutbox` over ``mail_outbox``. A message not yet tried is due from the time it
    was queued, so ``next_attempt_at`` is never empty in the table."""

    async def add(self, mail: QueuedMail) -> None:
        check_text("kind", mail.kind)
        check_time("queued_at", mail.queued_at)
        check_time("next_attempt_at", mail.next_attempt_at)
        await self._write(
            insert_into(MailOutboxRow).values(
                id=mail.id,
                subject_id=mail.subject_id,
                kind=mail.kind,
                sealed=mail.sealed,
                wrapped_key=mail.wrapped_key,
                queued_at=mail.queued_at,
                attempts=mail.attempts,
                next_attempt_at=mail.next_attempt_at or mail.queued_at,
            ),
            conflict="this message is already queued",
        )

    async def get(self, mail_id: UUID) -> QueuedMail | None:
        row = (
            await self._session.execute(select(MailOutboxRow).where(MailOutboxRow.id == mail_id))
        ).scalar_one_or_none()
        return None if row is None else _mail(row)

    async def due(self, now: datetime, limit: int, subject_id: UUID | None = None) -> list[QueuedMail]:
        check_time("now", now)
        if limit < 0:
            raise ValueError("limit must not be negative")
        statement = select(MailOutboxRow).where(MailOutboxRow.next_attempt_at <= now)
        if subject_id is not None:
            statement = statement.where(MailOutboxRow.subject_id == subject_id)
        statement = statement.order_by(MailOutboxRow.next_attempt_at, MailOutboxRow.queued_at).limit(limit)
        return [_mail(row) for row in (await self._session.execute(statement)).scalars()]

    async def claim(self, mail_id: UUID, attempts: int, until: datetime) -> bool:
        check_time("until", until)
        claimed = await self._execute_count(
            update(MailOutboxRow)
            .where(MailOutboxRow.id == mail_id, MailOutboxRow.attempts == attempts)
            .values(attempts=attempts + 1, next_attempt_at=until)
        )
        return claimed == 1

    async def postpone(self, mail_id: UUID, until: datetime) -> None:
        check_time("until", until)
        await self._execute_count(
            update(MailOutboxRow).where(MailOutboxRow.id == mail_id).values(next_attempt_at=until)
        )

    async def delete(self, mail_id: UUID) -> bool:
        return await self._execute_count(delete(MailOutboxRow).where(MailOutboxRow.id == mail_id)) == 1

    async def count_for_subject(self, subject_id: UUID) -> int:
        statement = select(func.count()).select_from(MailOutboxRow).where(MailOutboxRow.subject_id == subject_id)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(delete(MailOutboxRow).where(MailOutboxRow.subject_id == subject_id))

    async def count_queued_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = select(func.count()).select_from(MailOutboxRow).where(MailOutboxRow.queued_at < cutoff)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_queued_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        oldest = select(MailOutboxRow.id).where(MailOutboxRow.queued_at < cutoff).order_by(MailOutboxRow.queued_at)
        batch = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(delete(MailOutboxRow).where(MailOutboxRow.id.in_(batch)))


REPOSITORIES: SqlRepositories = {"mail_outbox": SqlMailOutbox}
"""The outbox's store, by its name in the unit of work."""
