"""Moderation refusals and reviews over SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BindParameter, bindparam, delete, exists, func, select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_data_rights import ProcessingRestrictionRow
from dreamina.adapters.sql.models_identity import AccountRow
from dreamina.adapters.sql.models_moderation import ModerationRecordRow, ModerationReviewRow
from dreamina.adapters.sql.repository_kit import (
    DriverRead,
    SqlRepositories,
    SqlRepository,
    insert_into,
    retention_batch,
)
from dreamina.ports.identity import AccountStatus
from dreamina.ports.moderation import (
    OPEN_REVIEW_EXISTS,
    CheckedContent,
    ModerationRecord,
    ModerationReview,
    ReviewStatus,
)
from dreamina.ports.standing import Standing


def _record(row: Any) -> ModerationRecord:
    return ModerationRecord(
        id=row.id,
        subject_id=row.subject_id,
        checked=CheckedContent(row.checked),
        category=row.category,
        input_hmac=row.input_hmac,
        occurred_at=row.occurred_at,
    )


def _review(row: Any) -> ModerationReview:
    return ModerationReview(
        id=row.id,
        subject_id=row.subject_id,
        status=ReviewStatus(row.status),
        refusals=row.refusals,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
    )


class SqlModerationRecordRepository(SqlRepository):
    """:class:`~dreamina.ports.moderation.ModerationRecordRepository` over ``moderation_records``."""

    _table = ModerationRecordRow.__table__

    async def add(self, record: ModerationRecord) -> None:
        check_text("category", record.category)
        check_text("input_hmac", record.input_hmac)
        check_time("occurred_at", record.occurred_at)
        statement = insert_into(ModerationRecordRow).values(
            id=record.id,
            subject_id=record.subject_id,
            checked=CheckedContent(record.checked).value,
            category=record.category,
            input_hmac=record.input_hmac,
            occurred_at=record.occurred_at,
        )
        await self._write(statement, conflict="this moderation record already exists")

    async def for_subject(self, subject_id: UUID) -> list[ModerationRecord]:
        statement = (
            select(self._table)
            .where(ModerationRecordRow.subject_id == subject_id)
            .order_by(ModerationRecordRow.occurred_at, ModerationRecordRow.id)
        )
        return [_record(row) for row in await self._session.execute(statement)]

    async def count_since(self, subject_id: UUID, since: datetime) -> int:
        check_time("since", since)
        statement = (
            select(func.count())
            .select_from(self._table)
            .where(ModerationRecordRow.subject_id == subject_id, ModerationRecordRow.occurred_at >= since)
        )
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(
            delete(ModerationRecordRow).where(ModerationRecordRow.subject_id == subject_id)
        )

    async def count_older(self, before: datetime) -> int:
        check_time("before", before)
        statement = select(func.count()).select_from(self._table).where(ModerationRecordRow.occurred_at < before)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_older(self, before: datetime, limit: int) -> int:
        check_time("before", before)
        batch = retention_batch(
            select(ModerationRecordRow.id)
            .where(ModerationRecordRow.occurred_at < before)
            .order_by(ModerationRecordRow.occurred_at),
            limit,
        ).scalar_subquery()
        return await self._execute_count(delete(ModerationRecordRow).where(ModerationRecordRow.id.in_(batch)))


class SqlModerationReviewRepository(SqlRepository):
    """:class:`~dreamina.ports.moderation.ModerationReviewRepository` over ``moderation_reviews``."""

    _table = ModerationReviewRow.__table__
    # every submission checks that its subject is not under review
    _open_for = DriverRead(
        select(_table).where(_table.c.subject_id == bindparam("subject_id"), _table.c.status == ReviewStatus.OPEN.value)
    )

    async def add(self, review: ModerationReview) -> None:
        check_time("opened_at", review.opened_at)
        check_time("closed_at", review.closed_at)
        statement = insert_into(ModerationReviewRow).values(
            id=review.id,
            subject_id=review.subject_id,
            status=ReviewStatus(review.status).value,
            refusals=review.refusals,
            opened_at=review.opened_at,
            closed_at=review.closed_at,
        )
        await self._write(statement, conflict=OPEN_REVIEW_EXISTS)

    async def get(self, review_id: UUID) -> ModerationReview | None:
        row = (await self._session.execute(select(self._table).where(ModerationReviewRow.id == review_id))).first()
        return None if row is None else _review(row)

    async def open_for(self, subject_id: UUID) -> ModerationReview | None:
        row = await self._open_for.first(self._session, {"subject_id": subject_id})
        return None if row is None else _review(row)

    async def open_reviews(self, limit: int) -> list[ModerationReview]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        statement = (
            select(self._table)
            .where(ModerationReviewRow.status == ReviewStatus.OPEN.value)
            .order_by(ModerationReviewRow.opened_at, ModerationReviewRow.id)
            .limit(limit)
        )
        return [_review(row) for row in await self._session.execute(statement)]

    async def close_if_open(self, review_id: UUID, status: ReviewStatus, now: datetime) -> bool:
        check_time("now", now)
        statement = (
            update(ModerationReviewRow)
            .where(ModerationReviewRow.id == review_id, ModerationReviewRow.status == ReviewStatus.OPEN.value)
            .values(status=ReviewStatus(status).value, closed_at=now)
        )
        return await self._execute_count(statement) == 1

    async def for_subject(self, subject_id: UUID) -> list[ModerationReview]:
        statement = (
            select(self._table)
            .where(ModerationReviewRow.subject_id == subject_id)
            .order_by(ModerationReviewRow.opened_at, ModerationReviewRow.id)
        )
        return [_review(row) for row in await self._session.execute(statement)]

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(
            delete(ModerationReviewRow).where(ModerationReviewRow.subject_id == subject_id)
        )

    async def count_closed_before(self, before: datetime) -> int:
        check_time("before", before)
        statement = select(func.count()).select_from(self._table).where(ModerationReviewRow.closed_at < before)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_closed_before(self, before: datetime, limit: int) -> int:
        check_time("before", before)
        batch = retention_batch(
            select(ModerationReviewRow.id)
            .where(ModerationReviewRow.closed_at < before)
            .order_by(ModerationReviewRow.closed_at),
            limit,
        ).scalar_subquery()
        return await self._execute_count(delete(ModerationReviewRow).where(ModerationReviewRow.id.in_(batch)))


class SqlStanding(SqlRepository):
    """:class:`~dreamina.ports.standing.StandingReader`: the account's status, an open review and a restriction in
    one ``SELECT`` (a round trip where the three stores took three, each reading and mapping a whole row)."""

    _subject: BindParameter[UUID] = bindparam("subject_id")
    _accounts = AccountRow.__table__
    _reviews = ModerationReviewRow.__table__
    _restrictions = ProcessingRestrictionRow.__table__
    _read = DriverRead(
        select(
            select(_accounts.c.status).where(_accounts.c.id == _subject).scalar_subquery().label("account_status"),
            exists()
            .where(_reviews.c.subject_id == _subject, _reviews.c.status == ReviewStatus.OPEN.value)
            .label("moderation_open"),
            exists().where(_restrictions.c.subject_id == _subject).label("restricted"),
        )
    )

    async def of(self, subject_id: UUID) -> Standing:
        (row,) = await self._read.rows(self._session, {"subject_id": subject_id})  # always one row
        return Standing(
            under_age_review=row.account_status == AccountStatus.AGE_REVIEW.value,
            under_moderation_review=bool(row.moderation_open),
            restricted=bool(row.restricted),
        )


REPOSITORIES: SqlRepositories = {
    "moderation_records": SqlModerationRecordRepository,
    "moderation_reviews": SqlModerationReviewRepository,
    "standing": SqlStanding,
}
"""The moderation stores, by their name in the unit of work."""
