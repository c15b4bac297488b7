"""Contract of the policy notice runs (the durable notice job's record), on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.policy import NoticeRunStatus, PolicyNoticeRun
from dreamina.ports.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _run(version: int) -> PolicyNoticeRun:
    return PolicyNoticeRun(version, NoticeRunStatus.PENDING, 0, requested_at=NOW)


async def test_a_run_is_recorded_once_per_version_and_read_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.notice_runs.add(_run(2))
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.notice_runs.add(_run(2))
    async with uow_factory() as uow:
        assert await uow.notice_runs.get(2) == _run(2)
        assert await uow.notice_runs.get(3) is None


async def test_unfinished_runs_come_oldest_first_and_done_ones_leave(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for version in (4, 2, 3):
            await uow.notice_runs.add(_run(version))
        await uow.commit()
    async with uow_factory() as uow:
        run = await uow.notice_runs.get(3)
        assert run is not None
        run.start(NOW + timedelta(seconds=1))
        await uow.notice_runs.update(run)
        done = await uow.notice_runs.get(2)
        assert done is not None
        done.start(NOW)
        done.finish(NOW + timedelta(seconds=2))
        await uow.notice_runs.update(done)
        await uow.commit()
    async with uow_factory() as uow:
        assert [(r.policy_version, r.status) for r in await uow.notice_runs.unfinished(10)] == [
            (3, NoticeRunStatus.SENDING),
            (4, NoticeRunStatus.PENDING),
        ]
        assert [r.policy_version for r in await uow.notice_runs.unfinished(1)] == [3]
        stored = await uow.notice_runs.get(2)
        assert stored is not None and (stored.started_at, stored.finished_at) == (NOW, NOW + timedelta(seconds=2))


async def test_counts_add_up_across_concurrent_batches_and_updates_keep_them(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.notice_runs.add(_run(2))
        await uow.commit()

    async def batch(sent: int) -> None:
        async with uow_factory() as uow:
            await uow.notice_runs.count_sent(2, sent)
            await uow.commit()

    await asyncio.gather(*(batch(n) for n in (3, 4, 5)))
    async with uow_factory() as uow:
        run = await uow.notice_runs.get(2)
        assert run is not None and run.notices_sent == 12
        run.finish(NOW)  # a stale copy's status change never rolls the count back
        run.notices_sent = 0
        await uow.notice_runs.update(run)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.notice_runs.get(2)
        assert stored is not None and (stored.status, stored.notices_sent) == (NoticeRunStatus.DONE, 12)
