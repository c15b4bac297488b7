"""``dreamina worker``: SAQ's worker, made so that no accepted job is left stuck while the worker lives.

- The task renews its job's lease while it runs; :meth:`SaqJobQueue.reclaim` takes back the jobs of a killed
  worker as soon as their lease lapses, and the generation reaper re-queues every unfinished generation the queue
  does not hold (Redis lost it, or the process that accepted it died before queueing it). Both run on a timer in
  every worker (``GenerationRunner.reap``, as in the embedded profile), every quarter lease.
- An infrastructure error (database busy or unreachable, Redis lost mid-run) is not the job's fault: the task
  catches it, spends none of SAQ's retries, and the job runs again after a back-off capped at one lease.
- Redis down: the dequeue loop and upkeep wait and retry with capped back-off and log the outage as one JSON line
  when it starts and when it ends, never a traceback per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

from saq import CronJob, Job, Worker

from dreamina.adapters.logs import get_logger
from dreamina.adapters.queue.saq_queue import (
    MONITOR_TASK_NAME,
    PRIVACY_TASK_NAME,
    REDIS_DOWN,
    RETENTION_TASK_NAME,
    TASK_NAME,
    RedisOutage,
    SaqJobQueue,
)
from dreamina.adapters.retention_runs import sweep_and_log
from dreamina.domain.generation.runner import RunOutcome, RunReport
from dreamina.domain.privacy.errors import StoreUnavailable
from dreamina.domain.privacy.retention import RetentionSweep, sweep_cron

log = get_logger("dreamina.worker")

FIRST_BACKOFF_SECONDS = 1.0


class GenerationJobs(Protocol):
    """What the worker needs of :class:`~dreamina.domain.generation.runner.GenerationRunner`."""

    async def run(self, generation_id: UUID) -> RunReport: ...

    async def reap(self, held: Callable[[UUID], bool], limit: int = 1000) -> int: ...


class _QuietOutages(logging.Filter):
    """SAQ logs a Redis connection error with its traceback wherever it meets one: keep the line, drop the trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], REDIS_DOWN):
            record.msg = f"{record.msg} (Redis unavailable: {type(record.exc_info[1]).__name__})"
            record.exc_info, record.exc_text = None, None
        return True


class SteadyWorker(Worker[Any]):
    """SAQ's worker with upkeep that outlasts Redis outages, and the reaper instead of SAQ's sweep (which takes
    stuck jobs one at a time, up to 5 s each, and may sweep a job dequeued a moment ago, saq#277)."""

    def __init__(
        self,
        queue: SaqJobQueue,
        *,
        reaper: Callable[[], Awaitable[object]],
        reaper_seconds: float,
        **options: Any,
    ) -> None:
        super().__init__(queue.queue, **options)
        self._outage: RedisOutage = queue.outage
        self._reaper = reaper
        self._reaper_seconds = reaper_seconds

    async def upkeep(self) -> list[asyncio.Task[None]]:
        info_ttl = self.timers["worker_info"] + 1
        return [
            asyncio.create_task(self._every("abort", self.timers["abort"], lambda: self.abort(self.timers["abort"]))),
            asyncio.create_task(self._every("schedule", self.timers["schedule"], self.schedule)),
            asyncio.create_task(self._every("reaper", self._reaper_seconds, self._reaper)),
            asyncio.create_task(
                self._every("worker_info", self.timers["worker_info"], lambda: self.worker_info(info_ttl))
            ),
        ]

    async def _every(self, name: str, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        failing: tuple[str, float] | None = None  # the error type and when it was last logged
        while not self.event.is_set():
            try:
                await job()
                self._outage.over()  # every upkeep task talks to Redis: one that worked means it answers again
                if failing is not None:
                    log.info("worker_upkeep_recovered", task=name)
                failing = None
            except REDIS_DOWN as error:
                self._outage.noted(error)
            except Exception as error:  # the database down for the reaper, say: tried again next tick
                kind, current = type(error).__name__, time.monotonic()
                if failing is None or failing[0] != kind or current - failing[1] >= 60:  # once a minute, not a tick
                    log.warning("worker_upkeep_failed", task=name, error_type=kind)
                    failing = (kind, current)
            await asyncio.sleep(seconds)

    async def process(self) -> bool:
        try:
            return await super().process()
        except REDIS_DOWN as error:  # finishing or retrying a job met Redis down: the reaper re-queues the job
            await self._outage.wait_after(error)
            return False


async def run_generation(ctx: dict[str, Any], *, generation_id: str) -> str:
    """The SAQ task: one attempt of ``GenerationRunner.run``, renewing the job's lease while it runs.

    A run the runner wants repeated (a provider retry, a resubmission) or that met an infrastructure error is queued
    again by :func:`_follow_up` once SAQ has finished this job (the key is busy until then)."""
    runner: GenerationJobs = ctx["runner"]
    running: set[UUID] = ctx["running"]
    job: Job | None = ctx.get("job")
    ident = UUID(generation_id)
    if ident in running:  # Redis lost the job while it ran here and the reaper queued it again
        return "already_running"
    running.add(ident)
    toucher = asyncio.create_task(keep_lease(ctx["queue"], job))
    try:
        report = await runner.run(ident)
    except Exception as error:  # infrastructure, not the job's fault: no attempt spent
        failures = int((job.meta if job is not None else {}).get("infra_errors", 0)) + 1
        cap = float(job.heartbeat) if job is not None and job.heartbeat else 60.0
        delay = min(cap, FIRST_BACKOFF_SECONDS * 2 ** min(failures - 1, 10))
        log.warning("generation_job_error", error_type=type(error).__name__, failures=failures, retry_in=delay)
        ctx["follow_up"] = (delay, failures)
        return "infrastructure_error"
    finally:
        running.discard(ident)
        toucher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await toucher
    if report.outcome in (RunOutcome.RETRY, RunOutcome.RESUBMIT):
        ctx["follow_up"] = (report.delay_seconds, 0)
    log.info("generation_job", outcome=report.outcome, attempt=report.attempt)
    return str(report.outcome)


run_generation.__qualname__ = TASK_NAME


async def keep_lease(queue: SaqJobQueue, job: Job | None) -> None:
    """Renew a running job's SAQ lease every third of it, so that no reaper takes it back while it runs."""
    while job is not None and job.heartbeat:
        await asyncio.sleep(max(1.0, job.heartbeat / 3))
        with contextlib.suppress(*REDIS_DOWN):  # the outage is logged by the dequeue loop; the lease may lapse
            await queue.renew(job)


async def run_retention_sweep(ctx: dict[str, Any]) -> int:
    """The SAQ cron task: one full retention sweep (G7); returns how many records it deleted or transformed.

    A database outage defers the sweep to the next tick (every batch commits, so it resumes where this one stopped):
    a warning line, not SAQ's "Error processing job" with a traceback."""
    try:
        reports = await sweep_and_log(ctx["retention"])
    except StoreUnavailable as error:
        log.warning("retention_sweep_deferred", error_type=type(error).__name__)
        return 0
    return sum(r.applied for r in reports)


run_retention_sweep.__qualname__ = RETENTION_TASK_NAME


def retention_cron_job(minutes: int) -> CronJob[Any]:
    """Every ``minutes`` (DREAMINA_RETENTION_SWEEP_MINUTES). ``unique`` (the default) keys the job by its name, so
    any number of workers enqueue one sweep per tick; a sweep may run up to one interval, and one cut short by
    the timeout resumes at the next tick (every batch commits)."""
    return CronJob(run_retention_sweep, cron=sweep_cron(minutes), timeout=minutes * 60, retries=1)


def make_worker(
    queue: SaqJobQueue,
    runner: GenerationJobs,
    concurrency: int,
    *,
    retention: RetentionSweep | None = None,
    retention_minutes: int = 60,
    **options: Any,
) -> SteadyWorker:
    """A worker over ``queue`` running :func:`run_generation` with ``runner``, the reaper every quarter lease and
    (given ``retention``) the retention sweep as a cron job every ``retention_minutes``."""
    logging.getLogger("saq").addFilter(_QuietOutages())
    running: set[UUID] = set()

    async def reap() -> int:
        reclaimed = await queue.reclaim()
        held = await queue.held() | running
        requeued = await runner.reap(held.__contains__)
        if reclaimed or requeued:
            log.info("generation_reaper", reclaimed=len(reclaimed), requeued=requeued)
        return requeued

    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(runner=runner, retention=retention, running=running, queue=queue)
        try:
            recovered: int | None = await reap()  # jobs Redis lost, or that never reached it, run again
        except Exception as error:  # Redis or the database down at start: the reaper's timer tries again
            log.warning("worker_recovery_deferred", error_type=type(error).__name__)
            recovered = None
        log.info("worker_started", recovered=recovered, concurrency=concurrency, lease_seconds=queue.lease_seconds)

    async def after_process(ctx: dict[str, Any]) -> None:
        follow_up = ctx.pop("follow_up", None)
        job: Job | None = ctx.get("job")
        if follow_up is None or job is None:
            return
        delay, failures = follow_up
        with contextlib.suppress(*REDIS_DOWN):  # else the reaper queues it once Redis answers
            generation_id = UUID((job.kwargs or {})["generation_id"])
            await queue.enqueue_job(generation_id, delay_seconds=delay, infra_errors=failures)

    return SteadyWorker(
        queue,
        reaper=reap,
        reaper_seconds=max(1.0, queue.lease_seconds / 4),
        functions=[run_generation, run_retention_sweep],
        cron_jobs=[retention_cron_job(retention_minutes)] if retention is not None else [],
        concurrency=concurrency,
        startup=startup,
        after_process=after_process,
        **options,
    )


class PrivacyJobs(Protocol):
    """What the privacy worker needs of :class:`~dreamina.domain.data_rights.jobs.DataRightsJobs`."""

    async def run_queued(self, request_id: UUID) -> str: ...

    async def enqueue_due(self, held: Callable[[UUID], bool] = ..., limit: int = 100) -> int: ...


async def run_privacy_job(ctx: dict[str, Any], *, request_id: str) -> str:
    """The SAQ task of ``dreamina privacy-worker``: run (or resume) one export or erasure under its lease. A failure
    is the job's own (its back-off is recorded and the reaper queues it again when due); an error recording even
    that (the database down) is logged and left to the reaper too: the job is still pending and due."""
    jobs: PrivacyJobs = ctx["privacy_jobs"]
    toucher = asyncio.create_task(keep_lease(ctx["queue"], ctx.get("job")))
    try:
        outcome = await jobs.run_queued(UUID(request_id))
    except Exception as error:
        log.warning("privacy_job_error", error_type=type(error).__name__)
        return "infrastructure_error"
    finally:
        toucher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await toucher
    log.info("privacy_job", outcome=outcome)
    return outcome


run_privacy_job.__qualname__ = PRIVACY_TASK_NAME


async def run_deadline_monitor(ctx: dict[str, Any]) -> dict[str, int]:
    """The SAQ cron task (hourly): flag privacy requests and privacy tickets near or past their legal deadline."""
    flagged: dict[str, int] = {}
    try:
        for monitor in ctx["monitors"]:
            for flag, count in (await monitor()).items():
                flagged[flag] = flagged.get(flag, 0) + count
    except StoreUnavailable as error:  # the next tick flags what this one could not (the flags are idempotent)
        log.warning("deadline_monitor_deferred", error_type=type(error).__name__)
        return {}
    log.info("deadline_monitor", **flagged)
    return flagged


run_deadline_monitor.__qualname__ = MONITOR_TASK_NAME


def make_privacy_worker(
    queue: SaqJobQueue,
    jobs: PrivacyJobs,
    monitors: Sequence[Callable[[], Awaitable[Mapping[str, int]]]],
    concurrency: int = 2,
    **options: Any,
) -> SteadyWorker:
    """A worker over the privacy queue: :func:`run_privacy_job`, the deadline monitor as an hourly cron job (one per
    tick however many workers run), and the reaper every quarter lease: it takes back the jobs of a killed worker and
    queues every due job the queue does not hold (never queued, lost by Redis, or its back-off over)."""
    logging.getLogger("saq").addFilter(_QuietOutages())

    async def reap() -> int:
        reclaimed = await queue.reclaim()
        queued = await jobs.enqueue_due((await queue.held()).__contains__)
        if reclaimed or queued:
            log.info("privacy_reaper", reclaimed=len(reclaimed), queued=queued)
        return queued

    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(privacy_jobs=jobs, monitors=monitors, queue=queue)
        log.info("privacy_queue_started", concurrency=concurrency, lease_seconds=queue.lease_seconds)

    return SteadyWorker(
        queue,
        reaper=reap,
        reaper_seconds=max(1.0, queue.lease_seconds / 4),
        functions=[run_privacy_job, run_deadline_monitor],
        cron_jobs=[CronJob(run_deadline_monitor, cron="0 * * * *", timeout=3600, retries=1)],
        concurrency=concurrency,
        startup=startup,
        **options,
    )
