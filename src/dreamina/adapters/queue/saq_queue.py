"""The production queue: SAQ on Redis. Workers run ``dreamina worker``; the task is the same
``GenerationRunner.run`` the in-process queue calls.

Per STACK.md: SAQ's default ``Job.timeout`` is 10 s, so every job states its own timeout; jobs also carry a
heartbeat (the task touches its job while it runs) so a killed worker's job counts as stuck within a minute and
the sweep retries it; a job enqueued while a worker starts can be swept (saq#277), so every job has retries and
the task is idempotent. Job keys are ``generation:<id>:<attempt>``: enqueueing the same attempt twice is a no-op.
Payloads are the generation id only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from uuid import UUID

from saq import CronJob, Job, Queue, Worker

from dreamina.adapters.logs import get_logger
from dreamina.adapters.retention_runs import sweep_and_log
from dreamina.domain.generation.runner import GenerationRunner
from dreamina.domain.privacy.retention import RetentionSweep, sweep_cron

log = get_logger("dreamina.worker")

QUEUE_NAME = "dreamina-generations"
TASK_NAME = "run_generation"
RETENTION_TASK_NAME = "run_retention_sweep"


class SaqJobQueue:
    """:class:`~dreamina.ports.generation.JobQueue` on SAQ (Redis)."""

    def __init__(
        self,
        redis_url: str,
        *,
        name: str = QUEUE_NAME,
        job_timeout_seconds: int = 600,
        heartbeat_seconds: int = 60,
        retries: int = 5,
        retry_delay_seconds: float = 2.0,
    ) -> None:
        self.queue = Queue.from_url(redis_url, name=name)
        self.job_timeout_seconds = job_timeout_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self._connected = False

    async def _connect(self) -> None:
        if not self._connected:
            await self.queue.connect()
            self._connected = True

    async def enqueue(self, generation_id: UUID, *, attempt: int = 0, delay_seconds: float = 0.0) -> None:
        await self._connect()
        await self.queue.enqueue(
            Job(
                function=TASK_NAME,
                kwargs={"generation_id": str(generation_id)},
                key=f"generation:{generation_id}:{attempt}",
                # the use case bounds itself by the job timeout; SAQ's own timeout is a margin above it
                timeout=self.job_timeout_seconds + 60,
                heartbeat=self.heartbeat_seconds,
                retries=self.retries,
                retry_delay=self.retry_delay_seconds,
                retry_backoff=True,
                scheduled=int(time.time() + delay_seconds) if delay_seconds > 0 else 0,
            )
        )

    async def aclose(self) -> None:
        if self._connected:
            await self.queue.disconnect()
            self._connected = False


async def run_generation(ctx: dict[str, Any], *, generation_id: str) -> str:
    """The SAQ task: one attempt of ``GenerationRunner.run``, touching the job so the heartbeat stays fresh."""
    runner: GenerationRunner = ctx["runner"]
    job: Job | None = ctx.get("job")

    async def keep_alive() -> None:
        while job is not None and job.heartbeat:
            await asyncio.sleep(max(1.0, job.heartbeat / 3))
            await job.update()

    toucher = asyncio.create_task(keep_alive())
    try:
        report = await runner.run(UUID(generation_id))
    finally:
        toucher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await toucher
    log.info("generation_job", outcome=report.outcome, attempt=report.attempt)
    return str(report.outcome)


run_generation.__qualname__ = TASK_NAME


async def run_retention_sweep(ctx: dict[str, Any]) -> int:
    """The SAQ cron task: one full retention sweep (G7); returns how many records it deleted or transformed."""
    reports = await sweep_and_log(ctx["retention"])
    return sum(r.applied for r in reports)


run_retention_sweep.__qualname__ = RETENTION_TASK_NAME


def retention_cron_job(minutes: int) -> CronJob[Any]:
    """Every ``minutes`` (DREAMINA_RETENTION_SWEEP_MINUTES). ``unique`` (the default) keys the job by its name, so
    any number of workers enqueue one sweep per tick; a sweep may run up to one interval, and one cut short by
    the timeout resumes at the next tick (every batch commits)."""
    return CronJob(run_retention_sweep, cron=sweep_cron(minutes), timeout=minutes * 60, retries=1)


def make_worker(
    queue: SaqJobQueue,
    runner: GenerationRunner,
    concurrency: int,
    *,
    retention: RetentionSweep | None = None,
    retention_minutes: int = 60,
    **options: Any,
) -> Worker[Any]:
    """A SAQ worker over ``queue`` running :func:`run_generation` with ``runner`` in its context, and (given
    ``retention``) the retention sweep as a cron job every ``retention_minutes``."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["runner"] = runner
        ctx["retention"] = retention
        recovered = await runner.recover()  # jobs Redis lost, or that never reached it, run again
        log.info("worker_started", recovered=recovered, concurrency=concurrency)

    return Worker(
        queue.queue,
        functions=[run_generation, run_retention_sweep],
        cron_jobs=[retention_cron_job(retention_minutes)] if retention is not None else [],
        concurrency=concurrency,
        startup=startup,
        **options,
    )
