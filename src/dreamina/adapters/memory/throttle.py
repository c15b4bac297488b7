"""In-memory fake of :class:`~dreamina.ports.security.AttemptCounter`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from dreamina.ports.clock import Clock


@dataclass(slots=True)
class Window:
    count: int
    ends_at: datetime


class InMemoryAttemptCounter:
    """Fixed windows kept in a dict, timed by an injected clock so tests can move time.

    A window opens at the first hit of a key and lasts ``window_seconds``; later hits do not extend it.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.windows: dict[str, Window] = {}

    async def hit(self, key: str, window_seconds: int) -> int:
        if window_seconds < 1:
            raise ValueError("window_seconds must be at least 1")
        now = self._clock.now()
        window = self._live(key, now)
        if window is None:
            window = self.windows[key] = Window(0, now + timedelta(seconds=window_seconds))
        window.count += 1
        return window.count

    async def count(self, key: str) -> int:
        window = self._live(key, self._clock.now())
        return window.count if window else 0

    async def retry_after(self, key: str) -> int:
        now = self._clock.now()
        window = self._live(key, now)
        # round up so a caller told "0" may really retry
        return math.ceil((window.ends_at - now).total_seconds()) if window else 0

    async def reset(self, key: str) -> None:
        self.windows.pop(key, None)

    def _live(self, key: str, now: datetime) -> Window | None:
        window = self.windows.get(key)
        if window is not None and now >= window.ends_at:
            del self.windows[key]
            return None
        return window
