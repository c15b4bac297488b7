"""In-memory fakes of the moderation stores: refusal records and moderation reviews."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, Unique, retention_batch, utc, utc_or_none
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.ports.identity import Account
from dreamina.ports.moderation import (
    OPEN_REVIEW_EXISTS,
    CheckedContent,
    ModerationRecord,
    ModerationReview,
    ReviewStatus,
)
from dreamina.ports.restrictions import ProcessingRestriction
from dreamina.ports.standing import Standing


class InMemoryModerationRecordRepository:
    def __init__(self, table: Table[UUID, ModerationRecord]) -> None:
        self._table = table

    async def add(self, record: ModerationRecord) -> None:
        check_text("category", record.category)
        check_text("input_hmac", record.input_hmac)
        check_time("occurred_at", record.occurred_at)
        stored = dataclasses.replace(
            record, checked=CheckedContent(record.checked), occurred_at=utc(record.occurred_at)
        )
        self._table.insert(record.id, stored)

    async def for_subject(self, subject_id: UUID) -> list[ModerationRecord]:
        found = (r for _, r in self._table.rows() if r.subject_id == subject_id)
        return sorted(found, key=lambda r: (r.occurred_at, r.id.bytes))

    async def count_since(self, subject_id: UUID, since: datetime) -> int:
        check_time("since", since)
        return sum(1 for _, r in self._table.rows() if r.subject_id == subject_id and r.occurred_at >= since)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return sum(self._table.delete(r.id) for r in await self.for_subject(subject_id))

    async def count_older(self, before: datetime) -> int:
        check_time("before", before)
        return sum(1 for _, r in self._table.rows() if r.occurred_at < before)

    async def delete_older(self, before: datetime, limit: int) -> int:
        check_time("before", before)
        rows = (r for _, r in self._table.rows())
        batch = retention_batch(rows, lambda r: r.occurred_at < before, lambda r: (r.occurred_at, r.id.bytes), limit)
        return sum(self._table.delete(r.id) for r in batch)


class InMemoryModerationReviewRepository:
    def __init__(self, table: Table[UUID, ModerationReview]) -> None:
        self._table = table

    async def add(self, review: ModerationReview) -> None:
        check_time("opened_at", review.opened_at)
        check_time("closed_at", review.closed_at)
        stored = dataclasses.replace(
            review,
            status=ReviewStatus(review.status),
            opened_at=utc(review.opened_at),
            closed_at=utc_or_none(review.closed_at),
        )
        self._table.insert(review.id, stored)

    async def get(self, review_id: UUID) -> ModerationReview | None:
        stored = self._table.get(review_id)
        return None if stored is None else dataclasses.replace(stored)

    async def open_for(self, subject_id: UUID) -> ModerationReview | None:
        found = [r for _, r in self._table.rows() if r.subject_id == subject_id and r.is_open]
        return dataclasses.replace(found[0]) if found else None

    async def open_reviews(self, limit: int) -> list[ModerationReview]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        found = (dataclasses.replace(r) for _, r in self._table.rows() if r.is_open)
        return sorted(found, key=lambda r: (r.opened_at, r.id.bytes))[:limit]

    async def close_if_open(self, review_id: UUID, status: ReviewStatus, now: datetime) -> bool:
        check_time("now", now)
        stored = self._table.get(review_id)
        if stored is None or not stored.is_open:
            return False
        self._table.replace(review_id, dataclasses.replace(stored, status=ReviewStatus(status), closed_at=utc(now)))
        return True

    async def for_subject(self, subject_id: UUID) -> list[ModerationReview]:
        found = (dataclasses.replace(r) for _, r in self._table.rows() if r.subject_id == subject_id)
        return sorted(found, key=lambda r: (r.opened_at, r.id.bytes))

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return sum(self._table.delete(r.id) for r in await self.for_subject(subject_id))

    async def count_closed_before(self, before: datetime) -> int:
        check_time("before", before)
        return sum(1 for _, r in self._table.rows() if r.closed_at is not None and r.closed_at < before)

    async def delete_closed_before(self, before: datetime, limit: int) -> int:
        check_time("before", before)
        rows = (r for _, r in self._table.rows())
        due = retention_batch(
            rows,
            lambda r: r.closed_at is not None and r.closed_at < before,
            lambda r: (r.closed_at, r.id.bytes),
            limit,
        )
        return sum(self._table.delete(r.id) for r in due)


class InMemoryStanding:
    """:class:`~dreamina.ports.standing.StandingReader` over the same unit of work's accounts, reviews and
    restrictions."""

    def __init__(
        self,
        accounts: Table[UUID, Account],
        reviews: Table[UUID, ModerationReview],
        restrictions: Table[UUID, ProcessingRestriction],
    ) -> None:
        self._accounts = accounts
        self._reviews = reviews
        self._restrictions = restrictions

    async def of(self, subject_id: UUID) -> Standing:
        account = self._accounts.get(subject_id)
        return Standing(
            under_age_review=account is not None and account.under_age_review,
            under_moderation_review=any(r.subject_id == subject_id and r.is_open for _, r in self._reviews.rows()),
            restricted=self._restrictions.get(subject_id) is not None,
        )


def _open_subject(review: ModerationReview) -> object:
    """One open review per account (the SQL backends: a partial unique index); closed ones never collide."""
    return ("open", review.subject_id) if review.is_open else ("closed", review.id)


STORES = MemoryStores(
    tables=(
        TableSpec("moderation_records", duplicate_key="this moderation record already exists"),
        TableSpec("moderation_reviews", unique=(Unique(_open_subject, OPEN_REVIEW_EXISTS),)),
    ),
    repositories={
        "moderation_records": lambda s: InMemoryModerationRecordRepository(s.table("moderation_records")),
        "moderation_reviews": lambda s: InMemoryModerationReviewRepository(s.table("moderation_reviews")),
        "standing": lambda s: InMemoryStanding(
            s.table("accounts"), s.table("moderation_reviews"), s.table("processing_restrictions")
        ),
    },
)
