"""The sweep is scheduled (G7's bound is its interval): a SAQ cron job in production, a periodic task in the
embedded profile; ``dreamina sweep`` prints counts per task and per category."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.database import InMemoryDatabase
from dreamina.adapters.queue.saq_queue import RETENTION_TASK_NAME, SaqJobQueue
from dreamina.adapters.queue.saq_worker import make_worker, retention_cron_job
from dreamina.adapters.retention_runs import PeriodicSweep
from dreamina.bootstrap import memory_database
from dreamina.domain.identity.retention import AuditEventsPastLegalPeriod
from dreamina.domain.privacy.retention import RetentionSweep, sweep_cron
from dreamina.entrypoints.cli import main
from dreamina.ports.audit import AuditEvent
from dreamina.settings import SettingsError, load_settings

NOW = datetime(2031, 1, 1, tzinfo=UTC)


async def _old_audit_events(database: InMemoryDatabase, n: int) -> None:
    async with database.unit_of_work() as uow:
        for _ in range(n):
            at = NOW - timedelta(days=2000)
            await uow.audit.append(AuditEvent(uuid.uuid4(), uuid.uuid4(), "system", None, "x", (), None, at))
        await uow.commit()


def _sweep(database: InMemoryDatabase) -> RetentionSweep:
    return RetentionSweep([AuditEventsPastLegalPeriod(database.unit_of_work)], MovableClock(NOW))


@pytest.mark.parametrize(
    ("minutes", "cron"),
    [(1, "*/1 * * * *"), (15, "*/15 * * * *"), (60, "0 * * * *"), (360, "0 */6 * * *"), (1440, "0 0 * * *")],
)
def test_the_interval_becomes_a_cron_expression(minutes: int, cron: str) -> None:
    assert sweep_cron(minutes) == cron
    assert retention_cron_job(minutes).cron == cron
    assert retention_cron_job(minutes).timeout == minutes * 60  # a sweep never outlives its interval


@pytest.mark.parametrize("minutes", ["0", "7", "45", "90", "2880", "-60"])
def test_intervals_cron_cannot_express_are_refused(minutes: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DREAMINA_RETENTION_SWEEP_MINUTES"):
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_RETENTION_SWEEP_MINUTES": minutes})
    assert load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}).retention_sweep_minutes == 60


def test_sessions_cannot_outlive_their_declared_period(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DREAMINA_TOKEN_TTL_SECONDS"):
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_TOKEN_TTL_SECONDS": str(31 * 24 * 3600)})


async def test_the_embedded_profile_sweeps_every_interval_in_process() -> None:
    database = memory_database()
    await _old_audit_events(database, 3)
    periodic = PeriodicSweep(_sweep(database), interval_seconds=0.05)
    await periodic.start()
    try:
        assert len(database.rows("audit_events")) == 3  # the first run waits one interval
        for _ in range(100):
            await asyncio.sleep(0.02)
            if periodic.runs >= 2:
                break
        assert periodic.runs >= 2 and len(database.rows("audit_events")) == 0
    finally:
        await periodic.stop()


@pytest.mark.redis
async def test_the_saq_worker_carries_the_cron_job_and_runs_the_sweep(redis_url: str) -> None:
    database = memory_database()
    await _old_audit_events(database, 4)
    queue = SaqJobQueue(redis_url, name=f"test-{uuid.uuid4().hex[:8]}")
    worker = make_worker(
        queue,
        _NoGenerations(),
        concurrency=1,
        retention=_sweep(database),
        retention_minutes=15,
        burst=True,
        dequeue_timeout=1,
    )
    assert [(c.function.__qualname__, c.cron) for c in worker.cron_jobs] == [(RETENTION_TASK_NAME, "*/15 * * * *")]
    await queue.queue.connect()
    try:
        job = await queue.queue.enqueue(RETENTION_TASK_NAME, key=f"cron:{RETENTION_TASK_NAME}", timeout=60)
        assert job is not None
        await asyncio.wait_for(worker.start(), 30)
        assert len(database.rows("audit_events")) == 0  # the cron task ran the sweep
    finally:
        await queue.aclose()
        await queue.queue.disconnect()


class _NoGenerations:
    async def run(self, generation_id: uuid.UUID) -> Any:
        raise AssertionError("no generation job in this test")

    async def reap(self, held: Any, limit: int = 1000) -> int:
        return 0


def test_the_cli_prints_counts_per_task_and_per_category(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DREAMINA_DATA_DIR", str(tmp_path))
    assert main(["db", "upgrade"]) == 0
    assert main(["sweep", "--dry-run", "--batch-size", "50"]) == 0
    out = capsys.readouterr().out
    assert "privacy_jobs.expired_archives" in out and "generations.owner_retention" in out
    categories = out.split("\n\n")[-1]
    for category in ("account", "content", "payment", "technical", "usage"):
        assert category in categories
    assert main(["sweep"]) == 0
    assert main(["sweep", "--batch-size", "-1"]) == 2
