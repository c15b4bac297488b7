"""The production queue: SAQ on Redis. Workers run ``dreamina worker`` (``saq_worker.py``); the task is the same
``GenerationRunner.run`` the in-process queue calls.

One SAQ job per generation, keyed ``generation:<id>``: while a generation's job is queued, scheduled or running,
enqueueing it again is a no-op, so the reaper and a retry can never run it twice at once. Every job carries a
lease (SAQ's heartbeat, ``lease_seconds``): the task renews it while it runs, and a job whose lease lapsed (its
worker was killed or cut off) is taken back by :meth:`SaqJobQueue.reclaim`, all of them in one pass. Per STACK.md,
SAQ's default ``Job.timeout`` is 10 s, so every job states its own. Payloads are the generation id only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import Job, Status
from saq.queue.redis import RedisQueue
from saq.utils import now

from dreamina.adapters.logs import get_logger

log = get_logger("dreamina.worker")

QUEUE_NAME = "dreamina-generations"
TASK_NAME = "run_generation"
RETENTION_TASK_NAME = "run_retention_sweep"
GENERATION_KEY = "generation:"
PRIVACY_QUEUE_NAME = "dreamina-privacy"  # exports and erasures, run by ``dreamina privacy-worker``
PRIVACY_TASK_NAME = "run_privacy_job"
MONITOR_TASK_NAME = "run_deadline_monitor"
PRIVACY_KEY = "privacy:"
REDIS_DOWN: tuple[type[Exception], ...] = (RedisError, OSError)  # Redis unreachable, restarting or loading


_RE_REGISTER = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    redis.call('ZADD', KEYS[1], 0, ARGV[1])
    redis.call('RPUSH', KEYS[2], ARGV[1])
end
return 0
"""


_TAKE_BACK = """
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('LREM', KEYS[2], 0, KEYS[1])
redis.call('ZREM', KEYS[3], KEYS[1])
if ARGV[2] ~= '' then redis.call('SETEX', KEYS[1], ARGV[3], ARGV[2]) end
return 1
"""


def job_key(generation_id: UUID, prefix: str = GENERATION_KEY) -> str:
    return f"{prefix}{generation_id}"


class RedisOutage:
    """What the worker knows about Redis being unreachable: logged once when it starts, once a minute while it
    lasts and once when it ends (never a traceback per attempt); callers wait a capped back-off between tries."""

    def __init__(self, max_wait_seconds: float = 5.0) -> None:
        self._max_wait = max_wait_seconds
        self._since: float | None = None
        self._logged = 0.0
        self._failures = 0

    @property
    def down(self) -> bool:
        return self._since is not None

    def noted(self, error: BaseException) -> None:
        current = time.monotonic()
        if self._since is None:
            self._since, self._logged, self._failures = current, current, 0
            log.warning("redis_unavailable", error_type=type(error).__name__)
        elif current - self._logged >= 60:
            self._logged = current
            log.warning("redis_still_unavailable", seconds=round(current - self._since))
        self._failures += 1

    async def wait_after(self, error: BaseException) -> None:
        self.noted(error)
        await asyncio.sleep(min(self._max_wait, 0.25 * 2 ** min(self._failures, 10)))

    def over(self) -> None:
        if self._since is not None:
            log.info("redis_available_again", seconds=round(time.monotonic() - self._since, 1))
            self._since = None


class SteadyRedisQueue(RedisQueue):
    """SAQ's Redis queue, except that a dequeue while Redis is unreachable waits a capped back-off and answers
    "nothing" instead of raising: SAQ's worker would otherwise retry it in a tight loop."""

    outage: RedisOutage

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109
        try:
            job = await super().dequeue(timeout, poll_interval)
        except REDIS_DOWN as error:
            await self.outage.wait_after(error)
            return None
        self.outage.over()
        return job


class SaqJobQueue:
    """:class:`~dreamina.ports.generation.JobQueue` on SAQ (Redis): generations by default; :func:`privacy_queue`
    makes the one for exports and erasures (its own queue, task and job keys)."""

    def __init__(
        self,
        redis_url: str,
        *,
        name: str = QUEUE_NAME,
        job_timeout_seconds: int = 600,
        lease_seconds: int = 20,
        retries: int = 5,
        retry_delay_seconds: float = 2.0,
        task: tuple[str, str, str] = (TASK_NAME, "generation_id", GENERATION_KEY),
    ) -> None:
        self.task_name, self.id_field, self.key_prefix = task  # the SAQ function, its id argument, the key prefix
        self.queue = SteadyRedisQueue(Redis.from_url(redis_url), name=name)
        self.outage = self.queue.outage = RedisOutage()
        self.job_timeout_seconds = job_timeout_seconds
        self.lease_seconds = lease_seconds
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self._connected = False

    async def _connect(self) -> None:
        if not self._connected:
            await self.queue.connect()
            self._connected = True

    async def enqueue(self, generation_id: UUID, *, attempt: int = 0, delay_seconds: float = 0.0) -> None:
        """Queue the generation's job, unless it is queued, scheduled or running already (``attempt`` is the
        runner's count, which SAQ does not need: the job key is the generation id).

        Redis down is not the caller's failure: the generation is committed, so a worker's reaper queues it once
        Redis answers again; the request that accepted it still answers 202."""
        try:
            await self.enqueue_job(generation_id, delay_seconds=delay_seconds)
        except REDIS_DOWN as error:
            log.warning("job_enqueue_deferred", error_type=type(error).__name__)

    async def enqueue_job(self, generation_id: UUID, *, delay_seconds: float = 0.0, infra_errors: int = 0) -> bool:
        """Queue the job; False if it was already there. ``infra_errors`` rides along in the job's meta so the
        back-off after infrastructure errors grows across runs and workers."""
        await self._connect()
        job = Job(
            function=self.task_name,
            kwargs={self.id_field: str(generation_id)},
            key=job_key(generation_id, self.key_prefix),
            # the use case bounds itself by the job timeout; SAQ's own timeout is a margin above it
            timeout=self.job_timeout_seconds + 60,
            heartbeat=self.lease_seconds,
            retries=self.retries,
            retry_delay=self.retry_delay_seconds,
            retry_backoff=True,
            scheduled=int(time.time() + delay_seconds) if delay_seconds > 0 else 0,
            meta={"infra_errors": infra_errors} if infra_errors else {},
        )
        return await self.queue.enqueue(job) is not None

    async def renew(self, job: Job) -> None:
        """Renew a running job's lease. If Redis lost the job meanwhile (restarted empty), register it again as
        running, so that no worker's reaper queues a second run of it and a lease that lapses is still seen."""
        await job.update()
        redis: Any = self.queue.redis
        await redis.eval(_RE_REGISTER, 2, self.queue.namespace("incomplete"), self.queue.namespace("active"), job.id)

    async def held(self) -> set[UUID]:
        """The ids whose job is queued, scheduled or running (SAQ's ``incomplete`` set)."""
        await self._connect()
        prefix = self.queue.job_id(self.key_prefix)
        found: set[UUID] = set()
        for raw in await self.queue.redis.zrange(self.queue.namespace("incomplete"), 0, -1):
            job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            if job_id.startswith(prefix):
                with contextlib.suppress(ValueError):  # keys of releases before this one end in ``:<attempt>``
                    found.add(UUID(job_id[len(prefix) :].split(":", 1)[0]))
        return found

    async def reclaim(self) -> list[str]:
        """Take back every job whose worker stopped renewing its lease (killed, frozen, cut off): all of them at
        once, unlike SAQ's sweep, which waits for each in turn. A job just dequeued, not yet marked active, is left
        alone for one lease (SAQ's sweep takes those too, saq#277). Each is finished as aborted, which frees its
        key: the generation reaper queues it again, and the cron schedule re-adds a cron job at its next tick."""
        await self._connect()
        redis: Any = self.queue.redis  # redis-py's stubs type pipeline calls as sync-or-async
        active = self.queue.namespace("active")
        ids = await redis.lrange(active, 0, -1)
        if not ids:
            return []
        records = await redis.mget(ids)
        cutoff = now() - self.lease_seconds * 1000
        taken: list[str] = []
        for job_id, record in zip(ids, records, strict=True):
            job = self.queue.deserialize(record)
            ended: bytes | str = b""
            if job is None:  # its record is gone (Redis lost it): drop the dangling entry
                pass
            elif job.status == Status.ACTIVE and not job.stuck:
                continue
            elif job.status != Status.ACTIVE and max(job.touched, job.started, job.queued) > cutoff:
                continue
            else:
                job.status, job.error, job.completed = Status.ABORTED, "lease expired", now()
                ended = self.queue.serialize(job)
            # only if nobody touched it since we read it (a late renewal, another worker's reaper re-queueing it)
            keys = (job_id, active, self.queue.namespace("incomplete"))
            if await redis.eval(_TAKE_BACK, 3, *keys, record or b"", ended, max(job.ttl if job else 0, 60)):
                taken.append(self.queue.job_key_from_id(job_id.decode()))
        if taken:
            log.warning("jobs_reclaimed", count=len(taken))
        return taken

    async def aclose(self) -> None:
        if self._connected:
            self._connected = False
            with contextlib.suppress(*REDIS_DOWN):
                await self.queue.disconnect()


def privacy_queue(redis_url: str, *, lease_seconds: int, job_timeout_seconds: int = 3600) -> SaqJobQueue:
    """The queue of export and erasure jobs, keyed ``privacy:<request id>``: a job is queued once however often the
    API and the reapers enqueue it. The job's own lease (``privacy_jobs``) keeps two workers off one job; SAQ's
    heartbeat only tells a reaper that the worker running it is gone. An export of a large account may take long:
    the timeout is an hour, and a job cut short resumes at its first unfinished step."""
    return SaqJobQueue(
        redis_url,
        name=PRIVACY_QUEUE_NAME,
        job_timeout_seconds=job_timeout_seconds,
        lease_seconds=lease_seconds,
        retries=1,  # failures are the job's own business (its back-off, in the database); the reaper re-queues
        task=(PRIVACY_TASK_NAME, "request_id", PRIVACY_KEY),
    )
