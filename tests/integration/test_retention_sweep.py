"""G7: the retention sweep removes what is past due, in bounded batches, idempotently, and safely twice at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.domain.consent.analytics import RETENTION_DAYS
from dreamina.domain.consent.retention import ExpiredAnalyticsEvents
from dreamina.domain.identity.retention import ExpiredSessions
from dreamina.domain.identity.sessions import hash_token
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.ports.identity import Account, AccountStatus, AuthSession
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.consent_rows import analytics_event

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def _account_with_sessions(uow_factory: UnitOfWorkFactory, expiries: list[datetime]) -> None:
    account_id = uuid.uuid4()
    async with uow_factory() as uow:
        await uow.accounts.add(
            Account(account_id, uuid.uuid4().hex, b"e", None, b"b", "DE", None, "h", AccountStatus.ACTIVE, NOW, NOW)
        )
        for expires_at in expiries:
            token = uuid.uuid4().hex
            await uow.sessions.add(AuthSession(uuid.uuid4(), account_id, hash_token(token), NOW, expires_at))
        await uow.commit()


async def test_dry_run_counts_and_sweep_deletes_in_batches(uow_factory: UnitOfWorkFactory) -> None:
    clock = MovableClock(NOW)
    await _account_with_sessions(uow_factory, [NOW + timedelta(hours=h) for h in range(1, 8)])
    sweep = RetentionSweep([ExpiredSessions(uow_factory)], clock, batch_size=3)

    assert [(r.due, r.applied) for r in await sweep.run()] == [(0, 0)]  # nothing has expired yet
    clock.advance(timedelta(hours=5, minutes=30))  # five of seven have expired
    dry = await sweep.run(dry_run=True)
    assert [(r.task, r.category, r.due, r.applied) for r in dry] == [("auth_sessions.expired", "technical", 5, 0)]

    batches: list[int] = []
    reports = await sweep.run(progress=lambda name, done: batches.append(done))
    assert batches == [3, 2]  # bounded batches, never more than batch_size at once
    assert [(r.due, r.applied) for r in reports] == [(5, 5)]
    assert [(r.due, r.applied) for r in await sweep.run()] == [(0, 0)]  # idempotent
    async with uow_factory() as uow:
        assert await uow.sessions.count_expired(NOW + timedelta(days=1)) == 2


async def test_two_sweeps_at_once_remove_each_record_once(uow_factory: UnitOfWorkFactory) -> None:
    clock = MovableClock(NOW + timedelta(days=2))
    await _account_with_sessions(uow_factory, [NOW + timedelta(minutes=m) for m in range(40)])
    first = RetentionSweep([ExpiredSessions(uow_factory)], clock, batch_size=4)
    second = RetentionSweep([ExpiredSessions(uow_factory)], clock, batch_size=4)
    results = await asyncio.gather(first.run(), second.run())
    assert sum(r[0].applied for r in results) == 40
    async with uow_factory() as uow:
        assert await uow.sessions.count_expired(clock.now()) == 0


async def test_two_analytics_sweeps_at_once_remove_each_event_once(uow_factory: UnitOfWorkFactory) -> None:
    clock = MovableClock(NOW)
    old = NOW.date() - timedelta(days=RETENTION_DAYS + 1)
    async with uow_factory() as uow:
        await uow.analytics_events.add_many(
            [analytics_event(old - timedelta(days=n % 5)) for n in range(60)] + [analytics_event(NOW.date())]
        )
        await uow.commit()
    sweeps = [RetentionSweep([ExpiredAnalyticsEvents(uow_factory)], clock, batch_size=7) for _ in range(2)]
    results = await asyncio.gather(*(sweep.run() for sweep in sweeps))
    assert sum(r[0].applied for r in results) == 60
    async with uow_factory() as uow:
        assert await uow.analytics_events.count_before(NOW.date() + timedelta(days=1)) == 1


def test_a_sweep_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetentionSweep([], MovableClock(NOW), batch_size=0)
    task = ExpiredSessions(lambda: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError):
        RetentionSweep([task, task], MovableClock(NOW))
