"""The embedded profile's queue: asyncio workers inside the API process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from dreamina.adapters.logs import get_logger

log = get_logger("dreamina.queue")

Handler = Callable[[UUID], Awaitable[Any]]


class InProcessJobQueue:
    """:class:`~dreamina.ports.generation.JobQueue` on asyncio (one for generations, one for privacy jobs).

    Jobs live only in this process: after a restart the composition root re-enqueues every unfinished job from the
    database (``GenerationRunner.recover``; the privacy jobs' reaper), and a reaper re-enqueues any unfinished job
    the queue does not hold (``holds``). One id never runs twice at once. An unexpected error (the database busy or
    unreachable, the bucket down) is an infrastructure error, not the job's fault: it spends none of the job's
    attempts (those count provider failures, in the runner) and re-runs the job with back-off, capped at
    ``max_backoff_seconds``, until it runs.
    """

    def __init__(
        self,
        concurrency: int = 2,
        error_backoff_seconds: float = 2.0,
        max_backoff_seconds: float = 60.0,
        *,
        kind: str = "generation",
    ) -> None:
        self._kind = kind  # what its jobs are, in task names and log events: ``generation``, ``privacy``
        self._concurrency = concurrency
        self._error_backoff = error_backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._queue: asyncio.Queue[UUID] = asyncio.Queue()
        self._handler: Handler | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._queued: set[UUID] = set()
        self._scheduled: dict[UUID, int] = {}  # ids waiting for a delay, and how many timers each
        self._locks: dict[UUID, tuple[asyncio.Lock, int]] = {}  # per id: lock and how many runs hold or await it
        self._errors: dict[UUID, int] = {}
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self, handler: Handler) -> None:
        self._handler = handler
        self._workers = [
            asyncio.create_task(self._work(), name=f"{self._kind}-worker-{i}") for i in range(self._concurrency)
        ]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._scheduled.clear()
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    def holds(self, generation_id: UUID) -> bool:
        """Whether the job is waiting, scheduled or running here (the reaper leaves those alone)."""
        return generation_id in self._queued or generation_id in self._scheduled or generation_id in self._locks

    async def enqueue(self, generation_id: UUID, *, attempt: int = 0, delay_seconds: float = 0.0) -> None:
        self._outstanding += 1
        self._idle.clear()
        if delay_seconds > 0:
            loop = asyncio.get_running_loop()
            timer: asyncio.TimerHandle | None = None
            self._scheduled[generation_id] = self._scheduled.get(generation_id, 0) + 1

            def fire() -> None:
                if timer is not None:
                    self._timers.discard(timer)
                left = self._scheduled.pop(generation_id, 1) - 1
                if left > 0:
                    self._scheduled[generation_id] = left
                self._put(generation_id)

            timer = loop.call_later(delay_seconds, fire)
            self._timers.add(timer)
        else:
            self._put(generation_id)

    async def join(self) -> None:
        """Wait until nothing is queued, scheduled or running (tests, benchmarks)."""
        await self._idle.wait()

    def _put(self, generation_id: UUID) -> None:
        if generation_id in self._queued:  # already waiting: one run will do
            self._done()
            return
        self._queued.add(generation_id)
        self._queue.put_nowait(generation_id)

    def _done(self) -> None:
        self._outstanding -= 1
        if self._outstanding <= 0:
            self._outstanding = 0
            self._idle.set()

    async def _work(self) -> None:
        while True:
            generation_id = await self._queue.get()
            self._queued.discard(generation_id)
            lock, users = self._locks.get(generation_id, (asyncio.Lock(), 0))
            self._locks[generation_id] = (lock, users + 1)
            try:
                async with lock:
                    assert self._handler is not None
                    log.info(f"{self._kind}_job_started")
                    result = await self._handler(generation_id)
                    log.info(
                        f"{self._kind}_job_ended",
                        outcome=getattr(result, "outcome", None),
                        attempt=getattr(result, "attempt", None),
                    )
                self._errors.pop(generation_id, None)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures = self._errors.get(generation_id, 0) + 1
                self._errors[generation_id] = failures
                delay = min(self._max_backoff, self._error_backoff * 2 ** min(failures - 1, 20))
                log.error(f"{self._kind}_job_error", error_type=type(error).__name__, failures=failures, retry_in=delay)
                await self.enqueue(generation_id, delay_seconds=delay)
            finally:
                lock, users = self._locks[generation_id]
                if users <= 1:
                    del self._locks[generation_id]
                else:
                    self._locks[generation_id] = (lock, users - 1)
                self._done()
