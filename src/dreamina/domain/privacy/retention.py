"""The retention sweep (policy section 6, guarantee G7): every rule applied in bounded, idempotent batches."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dreamina import failpoints
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.clock import Clock
from dreamina.ports.retention import RetentionTask, WholePeriodRetention


@dataclass(frozen=True, slots=True)
class SweepReport:
    task: str
    category: DataCategory
    due: int
    applied: int


Progress = Callable[[str, int], None]  # (task name, records handled in the batch just finished)

WHOLE_PERIODS_IN_FLIGHT = 2
"""Whole-period transactions a task keeps in flight. A store serialises them (PostgreSQL: the table's lock), but may
finish one after letting the next begin: PostgreSQL releases the lock at commit before it removes the dropped
partitions' files, so the next run of partitions is counted and dropped meanwhile (``bench/retention.py``)."""


class RetentionSweep:
    """Runs every retention task until nothing it covers is past due.

    Each batch is its own transaction, so a killed sweep loses at most the work in flight (one batch, or two
    whole-period transactions) and the next run picks up where it stopped; two sweeps at once split the work
    (PostgreSQL skips rows another sweep has locked). A task whose store keeps records by time period
    (:class:`WholePeriodRetention`) first has the coming periods prepared and the whole expired ones removed, a
    bounded run per transaction with :data:`WHOLE_PERIODS_IN_FLIGHT` such transactions at once (the store counts each
    record once however many run), before it counts what else is due and runs its batches; its ``due`` is what went
    whole plus that count (a dry run counts everything).
    """

    def __init__(self, tasks: Sequence[RetentionTask], clock: Clock, *, batch_size: int = 1000) -> None:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        names = [t.name for t in tasks]
        if len(names) != len(set(names)):
            raise ValueError("retention task names must be unique")
        self._tasks = list(tasks)
        self._clock = clock
        self._batch_size = batch_size

    @property
    def tasks(self) -> list[RetentionTask]:
        return list(self._tasks)

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def including(self, *tasks: RetentionTask) -> RetentionSweep:
        """The same sweep with more tasks (modules wired later add theirs)."""
        return RetentionSweep([*self._tasks, *tasks], self._clock, batch_size=self._batch_size)

    async def run(self, *, dry_run: bool = False, progress: Progress | None = None) -> list[SweepReport]:
        now = self._clock.now()  # one instant for the whole sweep, so "due" and "applied" agree
        reports = []
        for task in self._tasks:
            periods = task if isinstance(task, WholePeriodRetention) else None
            applied = 0
            if periods is not None and not dry_run:
                await periods.prepare_periods(now)
                applied += await self._drop_whole_periods(task.name, periods, now, progress)
            # what went in whole periods was past due too; counting it again would scan it for nothing
            due = applied + await task.due(now)
            if not dry_run:
                while True:
                    done = await task.apply(now, self._batch_size)
                    applied += done
                    if progress is not None and done:
                        progress(task.name, done)
                    if done < self._batch_size:
                        break
            reports.append(SweepReport(task=task.name, category=task.category, due=due, applied=applied))
        return reports

    @staticmethod
    async def _drop_whole_periods(
        name: str, periods: WholePeriodRetention, now: datetime, progress: Progress | None
    ) -> int:
        """Every whole expired period of one task, :data:`WHOLE_PERIODS_IN_FLIGHT` transactions at once, each lane
        until the store has none left. When one lane fails, the others finish (and report) the transaction they
        are in and start no other; then the first failure is raised."""
        dropped = 0
        failed = False

        async def lane() -> None:
            nonlocal dropped, failed
            try:
                while not failed and (whole := await periods.drop_whole_periods(now)) is not None:
                    failpoints.hit("retention.after_whole_periods", name)
                    dropped += whole
                    if progress is not None and whole:
                        progress(name, whole)
            except BaseException:
                failed = True
                raise

        outcomes = await asyncio.gather(*(lane() for _ in range(WHOLE_PERIODS_IN_FLIGHT)), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return dropped


def sweep_cron(minutes: int) -> str:
    """The cron expression that runs the sweep every ``minutes`` (a divisor of an hour, or whole hours of a day)."""
    if 0 < minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *"
    if minutes % 60 == 0 and 0 < minutes <= 1440 and 1440 % minutes == 0:
        hours = minutes // 60
        return "0 * * * *" if hours == 1 else "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"
    raise ValueError(minutes)
