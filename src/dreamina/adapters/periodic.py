"""A job repeated on a timer inside this process (the embedded profile's stand-in for a worker process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from dreamina.adapters.logs import get_logger

log = get_logger("dreamina.periodic")


class Periodic:
    """Runs ``job`` every ``interval_seconds`` (the first run one interval after start); a run that fails is logged
    by type and retried at the next tick."""

    def __init__(self, name: str, interval_seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self._interval = interval_seconds
        self._job = job
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._job()
            except Exception as error:  # logged, retried at the next tick
                log.error("periodic_job_failed", job=self.name, error_type=type(error).__name__)
            self.runs += 1
