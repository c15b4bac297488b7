"""The sweep keeps two whole-period transactions of a task in flight (G7, issue 14).

On PostgreSQL a transaction that dropped partitions releases the table's lock before the server removes their files
at its commit; with a second transaction in flight, the next run of partitions is counted and dropped meanwhile. The
sweep's own part is tested here against a task that only records what it is asked: two calls at once, never more,
every record counted once, and a failure ends the sweep once the other call has finished its transaction.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.domain.privacy.vocabulary import DataCategory

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class PeriodsTask:
    """A task whose store drops whole periods: ``runs`` records per call until none is left."""

    name = "periods.expired"
    category = DataCategory.USAGE
    description = "test"

    def __init__(self, runs: list[int], fail_at: int | None = None) -> None:
        self._runs = list(runs)
        self._fail_at = fail_at
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.finished = 0
        self.cancelled = 0

    async def due(self, now: datetime) -> int:
        return 0

    async def apply(self, now: datetime, limit: int) -> int:
        return 0

    async def prepare_periods(self, now: datetime) -> None:
        return None

    async def drop_whole_periods(self, now: datetime) -> int | None:
        self.calls += 1
        call = self.calls
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)  # a transaction's time
            if call == self._fail_at:
                raise RuntimeError("the store failed")
            if not self._runs:
                return None
            return self._runs.pop(0)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
            self.finished += 1


async def test_two_whole_period_transactions_are_in_flight_and_every_record_counts_once() -> None:
    task = PeriodsTask([50, 50, 50, 50, 50, 7])
    seen: list[int] = []
    sweep = RetentionSweep([task], MovableClock(NOW))
    reports = await sweep.run(progress=lambda name, done: seen.append(done))
    assert task.most_in_flight == 2  # the next run overlaps the one finishing, never more than two
    assert [(r.due, r.applied) for r in reports] == [(257, 257)]
    assert sorted(seen) == [7, 50, 50, 50, 50, 50]
    assert task.in_flight == 0
    assert task.calls == 8  # six runs, then each of the two finds nothing left


async def test_nothing_to_drop_ends_at_once() -> None:
    task = PeriodsTask([])
    reports = await RetentionSweep([task], MovableClock(NOW)).run()
    assert [(r.due, r.applied) for r in reports] == [(0, 0)]
    assert task.calls == 2


async def test_a_failed_transaction_ends_the_sweep_and_leaves_nothing_running() -> None:
    task = PeriodsTask([50] * 10, fail_at=3)
    with pytest.raises(RuntimeError, match="the store failed"):
        await RetentionSweep([task], MovableClock(NOW)).run()
    assert task.in_flight == 0  # the other call finished its transaction before the sweep stopped
    assert task.calls == 4 and task.cancelled == 0  # and started no other


async def test_a_dry_run_drops_nothing() -> None:
    task = PeriodsTask([50])
    await RetentionSweep([task], MovableClock(NOW)).run(dry_run=True)
    assert task.calls == 0
