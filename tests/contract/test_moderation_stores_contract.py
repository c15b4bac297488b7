"""The moderation stores (refusal records, reviews) and their holder, on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dreamina.domain.generation.moderation_records import ModerationPersonalData
from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.moderation import CheckedContent, ModerationRecord, ModerationReview, ReviewStatus
from dreamina.ports.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def record(subject: uuid.UUID, at: datetime, checked: CheckedContent = CheckedContent.PROMPT) -> ModerationRecord:
    return ModerationRecord(uuid.uuid4(), subject, checked, "violence", "ab" * 32, at)


def review(subject: uuid.UUID, at: datetime = NOW, status: ReviewStatus = ReviewStatus.OPEN) -> ModerationReview:
    return ModerationReview(uuid.uuid4(), subject, status, 5, at, None if status is ReviewStatus.OPEN else at)


async def test_records_count_within_a_window_and_go_by_age(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    old, recent = record(subject, NOW - timedelta(days=2)), record(subject, NOW, CheckedContent.OUTPUT)
    async with uow_factory() as uow:
        for r in (recent, old, record(other, NOW)):
            await uow.moderation_records.add(r)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.moderation_records.for_subject(subject) == [old, recent]
        assert await uow.moderation_records.count_since(subject, NOW - timedelta(days=1)) == 1
        assert await uow.moderation_records.count_since(subject, NOW - timedelta(days=3)) == 2
        assert await uow.moderation_records.count_older(NOW - timedelta(days=1)) == 1
        assert await uow.moderation_records.delete_older(NOW - timedelta(days=1), 10) == 1
        assert await uow.moderation_records.delete_for_subject(other) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.moderation_records.for_subject(subject) == [recent]
        with pytest.raises(ValueError):
            await uow.moderation_records.add(
                ModerationRecord(uuid.uuid4(), subject, recent.checked, "a\x00b", "h", NOW)
            )


async def test_one_open_review_per_account_closed_once(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    first = review(subject)
    async with uow_factory() as uow:
        await uow.moderation_reviews.add(first)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.moderation_reviews.add(review(subject))
    async with uow_factory() as uow:
        assert await uow.moderation_reviews.open_for(subject) == first
        assert [r.id for r in await uow.moderation_reviews.open_reviews(10)] == [first.id]
        assert await uow.moderation_reviews.close_if_open(first.id, ReviewStatus.LIFTED, NOW) is True
        assert await uow.moderation_reviews.close_if_open(first.id, ReviewStatus.SUSPENDED, NOW) is False
        await uow.commit()
    second = review(subject, NOW + timedelta(hours=1))
    async with uow_factory() as uow:
        assert await uow.moderation_reviews.open_for(subject) is None
        await uow.moderation_reviews.add(second)  # a closed review does not stand in the way of a new one
        await uow.commit()
    async with uow_factory() as uow:
        closed = await uow.moderation_reviews.get(first.id)
        assert closed is not None and (closed.status, closed.closed_at) == (ReviewStatus.LIFTED, NOW)
        assert await uow.moderation_reviews.count_closed_before(NOW + timedelta(seconds=1)) == 1
        assert await uow.moderation_reviews.delete_closed_before(NOW + timedelta(seconds=1), 10) == 1
        assert [r.id for r in await uow.moderation_reviews.for_subject(subject)] == [second.id]
        assert await uow.moderation_reviews.delete_for_subject(subject) == 1
        await uow.commit()


class _Sink:
    def __init__(self) -> None:
        self.files: dict[str, list[Mapping[str, Any]]] = {}

    async def write_records(
        self, category: str, description: str, records: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]]
    ) -> None:
        assert isinstance(records, Iterable)
        self.files[category] = list(records)

    async def write_file(self, path: str, description: str, chunks: AsyncIterable[bytes]) -> None:
        raise AssertionError("moderation keeps no files")


async def test_the_holder_exports_and_erases_everything_of_the_subject(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    async with uow_factory() as uow:
        await uow.moderation_records.add(record(subject, NOW))
        await uow.moderation_records.add(record(other, NOW))
        await uow.moderation_reviews.add(review(subject))
        await uow.commit()
    holder = ModerationPersonalData(uow_factory)
    assert await holder.count(subject) == {"moderation_records": 1, "moderation_reviews": 1}
    sink = _Sink()
    await holder.export(subject, sink)
    [refusal] = sink.files["moderation_refusals"]
    assert refusal == {
        "checked": "prompt",
        "category": "violence",
        "input_hmac": "ab" * 32,
        "occurred_at": NOW.isoformat(),
    }
    assert [r["status"] for r in sink.files["moderation_reviews"]] == ["open"]
    assert (await holder.erase(subject)).deleted == 2
    assert (await holder.erase(subject)).deleted == 0  # idempotent
    assert await holder.count(other) == {"moderation_records": 1, "moderation_reviews": 0}
