"""G7 by whole period, on memory, SQLite and PostgreSQL: the sweep over the stores with a fixed period (analytics
events, audit events, handled payment events) removes exactly what is past due, a record just inside its deadline
survives, and on PostgreSQL the expired partitions go whole; two sweeps at once count each record once, a sweep
killed between partitions loses nothing, a table another transaction holds leaves the work to the batches, and a
subject's records are found (export, G5) and erased (G6) in every period.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from dreamina import bootstrap
from dreamina.adapters.clock import MovableClock
from dreamina.adapters.sql import partitions
from dreamina.domain.billing.retention import ForgottenPaymentEvents
from dreamina.domain.consent.analytics import RETENTION_DAYS
from dreamina.domain.consent.retention import ExpiredAnalyticsEvents
from dreamina.domain.identity.retention import AuditEventsPastLegalPeriod
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.domain.privacy.schedule import LEGAL_RECORD_DAYS
from dreamina.ports.audit import AuditEvent
from dreamina.ports.retention import RetentionTask
from dreamina.ports.unit_of_work import UnitOfWorkFactory

from ..contract.consent_rows import analytics_event

JUST = timedelta(seconds=1)


@pytest.fixture
def postgres(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.callspec.params.get("_store") == "postgres")


def _audit_event(subject: uuid.UUID, at: datetime) -> AuditEvent:
    return AuditEvent(uuid.uuid4(), subject, "system", None, "x", ("f",), None, at)


@dataclass
class Scenario:
    """Records seeded after a first sweep at ``start`` made the periods ahead; at ``deadline`` (one second past
    the last gone record's), ``gone`` of them are due, two seconds earlier ``earlier``; ``left`` tells what is
    still there."""

    task: Callable[[UnitOfWorkFactory], RetentionTask]
    start: datetime
    seed: Callable[[UnitOfWorkFactory], Awaitable[None]]
    deadline: datetime
    earlier: int
    gone: int
    left: Callable[[UnitOfWorkFactory], Awaitable[list[Any]]]
    kept: list[Any]


ANALYTICS_START = datetime(2044, 5, 1, 12, 0, tzinfo=UTC)


async def _seed_analytics(uow_factory: UnitOfWorkFactory) -> None:
    days = {date(2044, 5, 1): 3, date(2044, 5, 2): 2, date(2044, 5, 3): 2}
    async with uow_factory() as uow:
        await uow.analytics_events.add_many([analytics_event(day) for day, n in days.items() for _ in range(n)])
        await uow.commit()


async def _analytics_left(uow_factory: UnitOfWorkFactory) -> list[Any]:
    async with uow_factory() as uow:
        counts = await uow.analytics_events.daily_counts(date(2044, 1, 1), date(2044, 12, 31))
    return [(c.day, c.count) for c in counts]


AUDIT_START = datetime(2044, 5, 10, 12, 0, tzinfo=UTC)
AUDIT_LAST_GONE = datetime(2044, 6, 10, 12, 0, tzinfo=UTC)
SUBJECT = uuid.UUID(int=42)


async def _seed_audit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for at in (
            datetime(2044, 5, 2, tzinfo=UTC),
            datetime(2044, 5, 2, 1, tzinfo=UTC),
            datetime(2044, 5, 31, 23, 59, 59, tzinfo=UTC),  # May: a whole month once June 1st is past due
            AUDIT_LAST_GONE,  # in June, where the cutoff falls: a batch
            AUDIT_LAST_GONE + 2 * JUST,  # kept
        ):
            await uow.audit.append(_audit_event(SUBJECT, at))
        await uow.commit()


async def _audit_left(uow_factory: UnitOfWorkFactory) -> list[Any]:
    async with uow_factory() as uow:
        return [e.occurred_at for e in await uow.audit.list_for_subject(SUBJECT)]


EVENTS_LAST_GONE = datetime(2044, 6, 10, 12, 0, tzinfo=UTC)


async def _seed_marks(uow_factory: UnitOfWorkFactory) -> None:
    marks = {
        "evt_may_1": datetime(2044, 5, 2, tzinfo=UTC),
        "evt_may_2": datetime(2044, 5, 20, tzinfo=UTC),
        "evt_june_gone": EVENTS_LAST_GONE,
        "evt_june_kept": EVENTS_LAST_GONE + 2 * JUST,
    }
    async with uow_factory() as uow:
        for event_id, at in marks.items():
            await uow.billing.record_event(event_id, "checkout.session.completed", at)
        await uow.commit()


async def _marks_left(uow_factory: UnitOfWorkFactory) -> list[Any]:
    async with uow_factory() as uow:
        names = ("evt_may_1", "evt_may_2", "evt_june_gone", "evt_june_kept")
        return [name for name in names if await uow.billing.event_handled(name)]


SCENARIOS = {
    "analytics_events": Scenario(
        ExpiredAnalyticsEvents,
        ANALYTICS_START,
        _seed_analytics,
        # the first second of the day on which 3 May is the first day kept: 1 and 2 May go whole
        datetime(2044, 5, 3, tzinfo=UTC) + timedelta(days=RETENTION_DAYS),
        3,
        5,
        _analytics_left,
        [(date(2044, 5, 3), 2)],
    ),
    "audit_events": Scenario(
        AuditEventsPastLegalPeriod,
        AUDIT_START,
        _seed_audit,
        AUDIT_LAST_GONE + JUST + timedelta(days=LEGAL_RECORD_DAYS),
        3,
        4,
        _audit_left,
        [AUDIT_LAST_GONE + 2 * JUST],
    ),
    "processed_payment_events": Scenario(
        ForgottenPaymentEvents,
        AUDIT_START,
        _seed_marks,
        EVENTS_LAST_GONE + JUST + timedelta(days=90),
        2,
        3,
        _marks_left,
        ["evt_june_kept"],
    ),
}


@pytest.mark.parametrize("store", list(SCENARIOS))
async def test_whole_periods_go_at_once_and_the_deadline_holds(
    store: str, uow_factory: UnitOfWorkFactory, postgres: bool
) -> None:
    scenario = SCENARIOS[store]
    clock = MovableClock(scenario.start)
    sweep = RetentionSweep([scenario.task(uow_factory)], clock, batch_size=1)
    assert [(r.due, r.applied) for r in await sweep.run()] == [(0, 0)]  # makes the periods ahead
    await scenario.seed(uow_factory)
    clock.set(scenario.deadline - 2 * JUST)  # a second before the last record's deadline
    assert [r.due for r in await sweep.run(dry_run=True)] == [scenario.earlier]
    clock.set(scenario.deadline)
    assert [r.due for r in await sweep.run(dry_run=True)] == [scenario.gone]
    steps: list[int] = []
    assert [(r.due, r.applied) for r in await sweep.run(progress=lambda _, done: steps.append(done))] == [
        (scenario.gone, scenario.gone)
    ]
    assert await scenario.left(uow_factory) == scenario.kept
    # batches of one record each, except that on PostgreSQL a whole period went in one transaction
    assert (max(steps) > 1) is postgres, steps
    assert [(r.due, r.applied) for r in await sweep.run()] == [(0, 0)]


async def _days_of_events(uow_factory: UnitOfWorkFactory, first: date, days: int, per_day: int) -> None:
    async with uow_factory() as uow:
        events = [analytics_event(first + timedelta(days=n)) for n in range(days) for _ in range(per_day)]
        await uow.analytics_events.add_many(events)
        await uow.commit()


async def _months_of_audit(uow_factory: UnitOfWorkFactory, first: datetime, months: int, per_month: int) -> None:
    async with uow_factory() as uow:
        for month in range(months):
            at = first.replace(month=first.month + month)
            for _ in range(per_month):
                await uow.audit.append(_audit_event(uuid.uuid4(), at))
        await uow.commit()


def _tasks(uow_factory: UnitOfWorkFactory) -> list[RetentionTask]:
    return [ExpiredAnalyticsEvents(uow_factory), AuditEventsPastLegalPeriod(uow_factory)]


BACKLOG_START = datetime(2045, 1, 1, 12, 0, tzinfo=UTC)
BACKLOG_LATER = BACKLOG_START + timedelta(days=LEGAL_RECORD_DAYS + 200)  # every seeded record long past due


async def _backlog(uow_factory: UnitOfWorkFactory) -> None:
    """60 analytics events over 15 days and 12 audit events over 4 months, each in a period made ahead."""
    await RetentionSweep(_tasks(uow_factory), MovableClock(BACKLOG_START)).run()
    await _days_of_events(uow_factory, BACKLOG_START.date(), 15, 4)
    await _months_of_audit(uow_factory, BACKLOG_START, 4, 3)


def _applied(reports: list[Any]) -> dict[str, int]:
    return {r.task: r.applied for r in reports}


async def test_two_sweeps_at_once_count_each_record_once(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitions, "PARTITIONS_PER_TRANSACTION", 3)  # several drop transactions to share
    await _backlog(uow_factory)
    clock = MovableClock(BACKLOG_LATER)
    one, two = await asyncio.gather(
        RetentionSweep(_tasks(uow_factory), clock, batch_size=7).run(),
        RetentionSweep(_tasks(uow_factory), clock, batch_size=5).run(),
    )
    totals = {task: _applied(one)[task] + _applied(two)[task] for task in _applied(one)}
    assert totals == {"analytics_events.expired": 60, "audit_events.legal_period_over": 12}
    assert sum(r.due for r in await RetentionSweep(_tasks(uow_factory), clock).run(dry_run=True)) == 0


class _Killed(Exception):
    pass


async def test_a_sweep_killed_between_periods_keeps_what_it_dropped(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitions, "PARTITIONS_PER_TRANSACTION", 3)
    await _backlog(uow_factory)
    sweep = RetentionSweep(_tasks(uow_factory), MovableClock(BACKLOG_LATER), batch_size=10)
    done: list[int] = []

    def die_after_first(task: str, records: int) -> None:
        done.append(records)
        raise _Killed(task)

    with pytest.raises(_Killed):
        await sweep.run(progress=die_after_first)
    left = {r.task: r.due for r in await sweep.run(dry_run=True)}
    # the committed transactions stayed done: the one killed after it and the one in flight beside it, which
    # finished (and reported) before the sweep stopped
    assert sum(left.values()) == 72 - sum(done)
    assert _applied(await sweep.run()) == left
    assert sum(_applied(await sweep.run()).values()) == 0


async def test_a_subjects_records_are_found_and_erased_in_every_period(uow_factory: UnitOfWorkFactory) -> None:
    start = datetime(2046, 2, 1, 12, 0, tzinfo=UTC)
    await RetentionSweep(_tasks(uow_factory), MovableClock(start)).run()  # days and months ahead of ``start``
    pseudonym, other = "q" * 32, "r" * 32
    days = [date(2046, 2, 1), date(2046, 2, 5), date(2046, 2, 9), date(2045, 12, 24)]  # the last: no period made
    subject = uuid.uuid4()
    times = [start, start.replace(month=3), start.replace(month=4), start.replace(year=2045)]
    async with uow_factory() as uow:
        await uow.analytics_events.add_many(
            [analytics_event(day, pseudonym=pseudonym) for day in days] + [analytics_event(days[0], pseudonym=other)]
        )
        for at in times:
            await uow.audit.append(_audit_event(subject, at))
        await uow.commit()
    async with uow_factory() as uow:  # access and export (G5)
        assert [e.day for e in await uow.analytics_events.for_pseudonyms([pseudonym])] == sorted(days)
        assert await uow.analytics_events.count_pseudonyms([pseudonym]) == 4
        assert [e.occurred_at for e in await uow.audit.list_for_subject(subject)] == sorted(times)
    tombstone = uuid.uuid4()
    async with uow_factory() as uow:  # erasure (G6)
        assert await uow.analytics_events.delete_pseudonyms([pseudonym]) == 4
        assert await uow.audit.pseudonymise_subject(subject, tombstone) == 4
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.analytics_events.for_pseudonyms([pseudonym]) == []
        assert len(await uow.analytics_events.for_pseudonyms([other])) == 1
        assert await uow.audit.list_for_subject(subject) == []
        assert len(await uow.audit.list_for_subject(tombstone)) == 4


async def test_a_table_another_transaction_holds_leaves_the_work_to_the_batches(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("partitions are PostgreSQL's")
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "100ms")
    database = bootstrap.sql_database(database_url, pooled=False)
    try:
        uow_factory = database.unit_of_work
        start = datetime(2047, 3, 1, 12, 0, tzinfo=UTC)
        sweep = RetentionSweep([ExpiredAnalyticsEvents(uow_factory)], MovableClock(start), batch_size=4)
        await sweep.run()
        await _days_of_events(uow_factory, start.date(), 5, 3)
        later = MovableClock(start + timedelta(days=RETENTION_DAYS + 10))
        sweep = RetentionSweep([ExpiredAnalyticsEvents(uow_factory)], later, batch_size=4)
        async with database.engine.connect() as reader:
            # a long reader: its lock lets rows be deleted, but not the table's partitions be dropped
            await reader.execute(text("LOCK TABLE analytics_events IN ACCESS SHARE MODE"))
            steps: list[int] = []
            reports = await sweep.run(progress=lambda _, done: steps.append(done))
            assert [(r.due, r.applied) for r in reports] == [(15, 15)]
            assert max(steps) <= 4  # batches only
            await reader.rollback()
        assert [(r.due, r.applied) for r in await sweep.run()] == [(0, 0)]  # and the emptied days go now
    finally:
        await database.dispose()
