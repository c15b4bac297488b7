"""The kept answers of requests with an ``Idempotency-Key``, on memory, SQLite and PostgreSQL: one answer per
(subject, route, key) even when two race for it, erasure per subject, retention in bounded batches."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.idempotency import IdempotencyRecord
from dreamina.ports.unit_of_work import UnitOfWorkFactory

from .idempotency_rows import AT, ROUTE, make_record


async def _add(uow_factory: UnitOfWorkFactory, *records: IdempotencyRecord) -> None:
    async with uow_factory() as uow:
        for record in records:
            await uow.idempotency_records.add(record)
        await uow.commit()


async def test_one_answer_per_subject_route_and_key(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    first = make_record(subject, body='{"id": "a"}')
    await _add(uow_factory, first)
    await _add(uow_factory, make_record(subject, route="POST /v1/uploads"), make_record(uuid.uuid4()))  # not the same
    with pytest.raises(Conflict):
        await _add(uow_factory, make_record(subject, body='{"id": "b"}'))
    async with uow_factory() as uow:
        assert await uow.idempotency_records.get(subject, ROUTE, "k-1") == first
        assert await uow.idempotency_records.get(subject, ROUTE, "k-2") is None
        with pytest.raises(ValueError):
            await uow.idempotency_records.add(make_record(subject, key="nul\x00"))


async def test_two_answers_racing_for_one_key_one_commits(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    inside = asyncio.Event()

    async def answer(body: str) -> None:
        async with uow_factory() as uow:
            await uow.idempotency_records.add(make_record(subject, body=body))
            inside.set()
            await asyncio.sleep(0.05)  # both are inside their unit of work at once (SQLite: the second waits its turn)
            await uow.commit()

    outcomes = await asyncio.gather(answer('"first"'), answer('"second"'), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"]
    async with uow_factory() as uow:
        kept = await uow.idempotency_records.get(subject, ROUTE, "k-1")
        assert kept is not None and kept.body == ('"first"' if outcomes[0] is None else '"second"')


async def test_erasure_deletes_every_answer_of_the_subject(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    await _add(uow_factory, make_record(subject), make_record(subject, key="k-2"), make_record(other))
    async with uow_factory() as uow:
        assert await uow.idempotency_records.count_for_subject(subject) == 2
        assert await uow.idempotency_records.delete_for_subject(subject) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.idempotency_records.count_for_subject(subject) == 0
        assert await uow.idempotency_records.count_for_subject(other) == 1


async def test_retention_deletes_the_oldest_in_bounded_batches(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    old = [make_record(subject, key=f"old-{i}", at=AT - timedelta(hours=25, minutes=i)) for i in range(3)]
    fresh = make_record(subject, key="fresh", at=AT)
    await _add(uow_factory, *old, fresh)
    cutoff = AT - timedelta(hours=24)
    async with uow_factory() as uow:
        assert await uow.idempotency_records.count_created_before(cutoff) == 3
        assert await uow.idempotency_records.delete_created_before(cutoff, 2) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.idempotency_records.get(subject, ROUTE, "old-0") is not None  # the newest of the old
        assert await uow.idempotency_records.delete_created_before(cutoff, 10) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.idempotency_records.count_created_before(cutoff) == 0
        assert await uow.idempotency_records.get(subject, ROUTE, "fresh") == fresh
