"""Contract: retention by whole period, on memory, SQLite and PostgreSQL.

The stores with a fixed period (analytics events, audit events, handled payment events) may keep their records by
time period: PostgreSQL partitions them by day or month (``adapters/sql/partitions.py``), memory and SQLite keep one
table. Whatever the backend, preparing periods changes nothing visible, dropping whole periods removes only records
past the cutoff, counted exactly, and the batches then remove the rest: the records that go, and the count of them,
are the same everywhere. On PostgreSQL the whole periods really go at once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.audit import AuditEvent
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .consent_rows import analytics_event

DAY0 = date(2041, 3, 1)  # far from every other test's dates: their partitions stay apart
MONTH0 = datetime(2042, 1, 15, 12, 0, tzinfo=UTC)
EVENT0 = datetime(2042, 7, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def postgres(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.callspec.params.get("_store") == "postgres")


async def _drop_all(uow_factory: UnitOfWorkFactory, drop: Callable[[UnitOfWork], Awaitable[int | None]]) -> int:
    """Every whole period the store will drop, one transaction per call, as the sweep does; returns the records."""
    total = 0
    while True:
        async with uow_factory() as uow:
            dropped = await drop(uow)
            await uow.commit()
        if dropped is None:
            return total
        total += dropped


async def test_analytics_whole_days_go_at_once_and_the_rest_by_batches(
    uow_factory: UnitOfWorkFactory, postgres: bool
) -> None:
    async with uow_factory() as uow:
        await uow.analytics_events.prepare_periods(DAY0)  # days DAY0 .. DAY0 + 14 on PostgreSQL
        await uow.commit()
    days = {
        DAY0: 3,
        DAY0 + timedelta(days=1): 2,
        DAY0 + timedelta(days=5): 4,  # the cutoff's day: kept
        DAY0 - timedelta(days=10): 2,  # before any period made: the default partition on PostgreSQL
        DAY0 + timedelta(days=40): 1,  # after them
    }
    async with uow_factory() as uow:
        await uow.analytics_events.add_many([analytics_event(day) for day, n in days.items() for _ in range(n)])
        await uow.commit()
    cutoff = DAY0 + timedelta(days=5)
    async with uow_factory() as uow:
        assert await uow.analytics_events.count_before(cutoff) == 7
        await uow.analytics_events.prepare_periods(DAY0)  # again: nothing changes
        await uow.commit()

    dropped = await _drop_all(uow_factory, lambda uow: uow.analytics_events.drop_periods_before(cutoff))
    assert dropped == (5 if postgres else 0)  # the two whole days before the cutoff, counted exactly
    async with uow_factory() as uow:
        assert await uow.analytics_events.delete_before(cutoff, 100) == 7 - dropped
        assert await uow.analytics_events.delete_before(cutoff, 100) == 0
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.analytics_events.count_before(cutoff) == 0
        left = await uow.analytics_events.daily_counts(DAY0 - timedelta(days=100), DAY0 + timedelta(days=100))
        assert [(c.day, c.count) for c in left] == [(DAY0 + timedelta(days=5), 4), (DAY0 + timedelta(days=40), 1)]
    assert await _drop_all(uow_factory, lambda uow: uow.analytics_events.drop_periods_before(cutoff)) == 0


async def test_whole_days_dropped_by_several_transactions_at_once_count_each_event_once(
    uow_factory: UnitOfWorkFactory, postgres: bool
) -> None:
    """The sweep keeps two whole-period transactions in flight (``WHOLE_PERIODS_IN_FLIGHT``): however many run at
    once, each expired day goes once and each event is counted once, more days than one transaction drops."""
    first = date(2039, 1, 1)  # before every other test's days: only this test's partitions are before its cutoff
    days = 130  # 2.6 transactions' worth of partitions on PostgreSQL
    async with uow_factory() as uow:
        for start in range(0, days, 15):  # each prepare makes a day's period and the 14 after it
            await uow.analytics_events.prepare_periods(first + timedelta(days=start))
        await uow.analytics_events.add_many(
            [analytics_event(first + timedelta(days=n)) for n in range(days) for _ in range(1 + n % 3)]
        )
        await uow.commit()
    cutoff = first + timedelta(days=days)
    expired = sum(1 + n % 3 for n in range(days))

    lanes = await asyncio.gather(
        *(_drop_all(uow_factory, lambda uow: uow.analytics_events.drop_periods_before(cutoff)) for _ in range(3))
    )
    assert sum(lanes) == (expired if postgres else 0)
    async with uow_factory() as uow:
        assert await uow.analytics_events.count_before(cutoff) == expired - sum(lanes)
        while await uow.analytics_events.delete_before(cutoff, 1000):
            pass
        await uow.commit()


async def test_analytics_batches_go_oldest_first_across_periods(uow_factory: UnitOfWorkFactory) -> None:
    first = DAY0 + timedelta(days=200)
    async with uow_factory() as uow:
        await uow.analytics_events.prepare_periods(first + timedelta(days=2))  # the 3rd day has a period, not the 1st
        await uow.analytics_events.add_many(
            [analytics_event(first + timedelta(days=n)) for n in (3, 0, 2, 1, 0, 3)]  # stored out of order
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.analytics_events.delete_before(first + timedelta(days=10), 3) == 3
        await uow.commit()
    async with uow_factory() as uow:
        left = await uow.analytics_events.daily_counts(first, first + timedelta(days=10))
        assert [(c.day - first).days for c in left for _ in range(c.count)] == [2, 3, 3]


async def test_audit_whole_months_go_at_once_and_the_partial_one_by_batches(
    uow_factory: UnitOfWorkFactory, postgres: bool
) -> None:
    async with uow_factory() as uow:
        await uow.audit.prepare_periods(MONTH0)  # January to April 2042 on PostgreSQL
        await uow.commit()
    subject = uuid.uuid4()
    times = [
        datetime(2042, 1, 10, tzinfo=UTC),
        datetime(2042, 1, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2042, 2, 20, tzinfo=UTC),
        datetime(2042, 3, 5, tzinfo=UTC),  # in the month the cutoff falls in: a batch
        datetime(2042, 3, 25, tzinfo=UTC),  # after the cutoff: kept
        datetime(2041, 6, 1, tzinfo=UTC),  # before every month made: the default partition
    ]
    async with uow_factory() as uow:
        for at in times:
            await uow.audit.append(AuditEvent(uuid.uuid4(), subject, "system", None, "x", ("f",), None, at))
        await uow.commit()
    cutoff = datetime(2042, 3, 15, tzinfo=UTC)
    async with uow_factory() as uow:
        assert await uow.audit.count_before(cutoff) == 5
    dropped = await _drop_all(uow_factory, lambda uow: uow.audit.drop_periods_before(cutoff))
    assert dropped == (3 if postgres else 0)  # January and February, whole
    async with uow_factory() as uow:
        assert await uow.audit.delete_before(cutoff, 100) == 5 - dropped
        await uow.commit()
    async with uow_factory() as uow:
        assert [e.occurred_at for e in await uow.audit.list_for_subject(subject)] == [datetime(2042, 3, 25, tzinfo=UTC)]
        with pytest.raises(ValueError):
            await uow.audit.drop_periods_before(cutoff.replace(tzinfo=None))
        with pytest.raises(ValueError):
            await uow.audit.prepare_periods(MONTH0.replace(tzinfo=None))


async def test_handled_event_marks_go_by_whole_months_and_stay_one_per_event(
    uow_factory: UnitOfWorkFactory, postgres: bool
) -> None:
    async with uow_factory() as uow:
        await uow.billing.prepare_event_periods(EVENT0)  # July to October 2042 on PostgreSQL
        await uow.commit()
    async with uow_factory() as uow:
        for n, at in enumerate(
            [EVENT0, EVENT0 + timedelta(days=1), EVENT0 + timedelta(days=20), EVENT0 + timedelta(days=40)]
        ):
            await uow.billing.record_event(f"evt_period_{n}", "checkout.session.completed", at)
        await uow.commit()
    # the same event again, months later (another period): still handled once
    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.billing.record_event("evt_period_0", "checkout.session.completed", EVENT0 + timedelta(days=60))
        assert await uow.billing.event_handled("evt_period_3")
    cutoff = datetime(2042, 8, 20, tzinfo=UTC)  # July's two whole; August 4th in the month the cutoff falls in
    dropped = await _drop_all(uow_factory, lambda uow: uow.billing.drop_event_periods_before(cutoff))
    assert dropped == (2 if postgres else 0)
    async with uow_factory() as uow:
        assert await uow.billing.delete_events_before(cutoff, 100) == 3 - dropped
        await uow.commit()
    async with uow_factory() as uow:
        assert [await uow.billing.event_handled(f"evt_period_{n}") for n in range(4)] == [False, False, False, True]


async def test_two_marks_of_one_event_at_once_leave_one(uow_factory: UnitOfWorkFactory) -> None:
    """Two deliveries of one event marked at once, at different times (so in different periods on PostgreSQL):
    the second waits for the first and is refused, as a unique key would have it."""
    first_in = asyncio.Event()

    async def mark(at: datetime, wait: bool) -> str:
        try:
            async with uow_factory() as uow:
                if wait:
                    await first_in.wait()
                await uow.billing.record_event("evt_at_once", "checkout.session.completed", at)
                if not wait:
                    first_in.set()
                    await asyncio.sleep(0.2)  # the second delivery arrives while this one is uncommitted
                await uow.commit()  # (the in-memory store finds the duplicate here, optimistically)
        except Conflict:
            return "duplicate"
        return "handled"

    outcomes = await asyncio.gather(mark(EVENT0, False), mark(EVENT0 + timedelta(days=45), True))
    assert sorted(outcomes) == ["duplicate", "handled"]
