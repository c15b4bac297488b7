"""A reaper's pass over a backlog of jobs: pages read oldest first (keyset), from where the last pass stopped.

The generation reaper and the privacy-job reaper share it. A pass reads at most ``REAP_PAGES`` pages of ``limit``
jobs and stops early once it found ``limit`` to queue; the next pass goes on after the last job read, and starts
from the beginning again once a pass read the end. So a job the queue lost behind any backlog of jobs it still holds
is reached within a bounded number of passes, and no pass reads the whole backlog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")
Position = tuple[datetime, UUID]  # a job's place in the oldest-first order: (its time, its id)

REAP_PAGES = 10  # pages one pass reads at most


class BacklogCursor(Generic[T]):
    """Where a reaper's next pass starts. One per reaper (it lives as long as the process)."""

    def __init__(self, position: Callable[[T], Position]) -> None:
        self._position = position
        self._after: Position | None = None

    async def next_pass(
        self, page_after: Callable[[Position | None], Awaitable[list[T]]], wanted: Callable[[T], bool], limit: int
    ) -> list[T]:
        """The ``wanted`` jobs of this pass's pages; ``page_after`` reads up to ``limit`` jobs after a position
        (from the first with None)."""
        found: list[T] = []
        for _ in range(REAP_PAGES):
            page = await page_after(self._after)
            found += [job for job in page if wanted(job)]
            self._after = self._position(page[-1]) if len(page) >= limit > 0 else None
            if self._after is None or len(found) >= limit:
                break
        return found
