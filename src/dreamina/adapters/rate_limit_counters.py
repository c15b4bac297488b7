"""Per-client request counters for the API's rate-limit budgets: in process memory (one API process) or in Redis
(shared by every API process), both with the same sliding-window arithmetic.

The window is approximated the way Cloudflare describes it ("How we built rate limiting capable of scaling to
millions of domains", 2017): two fixed one-minute counters, the previous minute's weighted by the part of it still
inside the sliding minute. A refused request is not counted, so a client that waits the ``Retry-After`` it was given
is let through. In Redis the check and the increment are one Lua script (atomic, one round trip: the Redis docs'
"Rate limiting pattern" for ``INCR``, made conditional); the keys expire by themselves two minutes later. For a large
budget, one round trip counts a small lease of requests at once (:func:`lease_size`), which the process then spends
from memory: a busy client costs one round trip every few dozen requests rather than one each.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dreamina.adapters.logs import get_logger

log = get_logger("dreamina.rate_limits")
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
WINDOW = 60  # seconds


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    remaining: int  # requests left in the sliding minute after this one
    reset: int  # seconds until the current fixed window ends
    retry_after: int  # for a refusal: seconds until a request would be let through


def verdict(limit: int, current: int, previous: int, now: float, *, allowed: bool) -> Verdict:
    """The verdict for ``current`` requests counted in this window (this one included if allowed) and ``previous``
    in the one before, ``now`` seconds since the epoch."""
    into = now % WINDOW
    weight = (WINDOW - into) / WINDOW
    estimate = previous * weight + current
    reset = max(1, math.ceil(WINDOW - into))
    if allowed:
        return Verdict(True, max(0, int(limit - estimate)), reset, 0)
    if current >= limit:
        # Not before the next window, and then until the weight of this window's count falls below the limit.
        wait = (WINDOW - into) + WINDOW * max(0.0, 1 - (limit - 1) / max(current, 1))
    else:
        # The previous window's share must fall until one more request fits: previous * w' + current <= limit - 1.
        wait = WINDOW * (weight - (limit - 1 - current) / previous) if previous else 1.0
    return Verdict(False, 0, reset, min(2 * WINDOW, max(1, math.ceil(wait))))


class RequestCounters(Protocol):
    async def hit(self, key: str, limit: int) -> Verdict | None:
        """Count one request under ``key`` if it is within ``limit`` a sliding minute; None: the counters are
        unreachable (the caller lets the request through)."""
        ...

    async def aclose(self) -> None: ...


class MemoryCounters:
    """One process's counters: ``{key: (window index, count)}`` plus the previous window's count."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, int, int]] = {}  # key -> (window, count, previous window's count)
        self._swept = 0

    def keys(self) -> list[str]:
        return list(self._counts)

    def forget(self) -> None:
        """Drop every count, as a restarted process would have none."""
        self._counts = {}

    async def hit(self, key: str, limit: int) -> Verdict:
        now = self._clock()
        window = int(now // WINDOW)
        seen, count, before = self._counts.get(key, (window, 0, 0))
        if seen != window:
            count, before = 0, (count if seen == window - 1 else 0)
        estimate = before * (WINDOW - now % WINDOW) / WINDOW + count
        if estimate + 1 > limit:
            self._counts[key] = (window, count, before)
            return verdict(limit, count, before, now, allowed=False)
        self._counts[key] = (window, count + 1, before)
        if window != self._swept:  # forget clients not seen for two windows, once a window
            self._swept = window
            self._counts = {k: v for k, v in self._counts.items() if v[0] >= window - 1}
        return verdict(limit, count + 1, before, now, allowed=True)

    async def aclose(self) -> None:
        return None  # nothing to release: the counts live as long as the process


# KEYS[1]: this window's counter, KEYS[2]: the previous window's; ARGV: limit, weight of the previous window, how many
# to take at most. Takes as many as fit (at least the one asked for, else none): {taken, current, previous}.
_HIT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local room = tonumber(ARGV[1]) - previous * tonumber(ARGV[2]) - current
if room < 1 then
  return {0, current, previous}
end
local take = math.min(tonumber(ARGV[3]), math.floor(room))
current = redis.call('INCRBY', KEYS[1], take)
if current == take then redis.call('EXPIRE', KEYS[1], 2 * 60) end
return {take, current, previous}
"""

LEASE_MAX = 64
"""The most requests one API process takes from a client's budget in one Redis round trip (see :func:`lease_size`)."""
LEASE_SHARE = 50
"""A process takes at most this fraction of a budget at once: 1/50, so a lease is 12 of the default 600 a minute."""


def lease_size(limit: int) -> int:
    """How many requests a process counts in Redis at once for a budget of ``limit`` a minute: the request in hand
    and the client's next ones in this process, spent from memory until the window ends. Every request is counted
    in Redis before it is let through, so a budget is never exceeded however many processes share it; what a process
    took and did not spend before the window ended still counts, so a client near its limit across ``n`` processes
    may be refused up to ``n`` leases early (2 % of the budget each). Budgets under 100 a minute are counted one by
    one, exactly as before (the sensitive and content budgets by default)."""
    return max(1, min(LEASE_MAX, limit // LEASE_SHARE))


_ANSWERED, _UNANSWERED, _CANCELLED = "answered", "unanswered", "cancelled"  # how a round trip others waited on ended


class _Lease:
    __slots__ = ("left", "remaining", "window")

    def __init__(self, window: int, left: int, remaining: int) -> None:
        self.window = window
        self.left = left  # requests counted in Redis and not yet spent by this process
        self.remaining = remaining  # the budget's remaining when it was taken, every request of it counted


class RedisCounters:
    """Counters in Redis, shared by every API process. Unreachable Redis: every request is let through (the budgets
    are abuse control, not a security boundary: each secret has its own throttle, which fails closed), logged at most
    once a minute while it lasts."""

    def __init__(self, url: str, namespace: str = "dreamina:rate", clock: Any = time.time) -> None:
        from redis.asyncio import Redis

        self._clock = clock
        self._redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._script = self._redis.register_script(_HIT)
        self._namespace = namespace
        self._last_warned = 0.0
        self._leases: dict[str, _Lease] = {}
        self._pending: dict[str, asyncio.Future[str]] = {}  # a client's round trip in flight, by key
        self._swept = 0

    async def hit(self, key: str, limit: int) -> Verdict | None:
        wanted = lease_size(limit)
        if wanted == 1:
            return await self._count(key, limit, 1)
        while True:
            now = self._clock()
            window = int(now // WINDOW)
            lease = self._leases.get(key)
            if lease is not None and lease.window == window and lease.left > 0:  # counted in Redis already
                lease.left -= 1
                return Verdict(True, lease.remaining + lease.left, max(1, math.ceil(WINDOW - now % WINDOW)), 0)
            pending = self._pending.get(key)
            if pending is None:
                break
            # The client's requests that arrive while a round trip is out wait for its lease rather than each
            # taking one of its own (a burst would otherwise hold a lease per request). If Redis did not answer it,
            # they are let through at once, as it was: not each made to wait out a timeout of its own in turn (a
            # round trip cancelled with its request leaves them to try again).
            if await asyncio.shield(pending) == _UNANSWERED:
                return None
        done = self._pending[key] = asyncio.get_running_loop().create_future()
        outcome = _CANCELLED
        try:
            result = await self._count(key, limit, wanted)
            outcome = _UNANSWERED if result is None else _ANSWERED
            return result
        finally:
            del self._pending[key]
            done.set_result(outcome)

    async def _count(self, key: str, limit: int, wanted: int) -> Verdict | None:
        """One round trip: count the request in hand and up to ``wanted - 1`` more for this process's lease."""
        now = self._clock()
        window = int(now // WINDOW)
        weight = (WINDOW - now % WINDOW) / WINDOW
        keys = [f"{self._namespace}:{key}:{window}", f"{self._namespace}:{key}:{window - 1}"]
        try:
            taken, current, previous = await self._script(keys=keys, args=[limit, f"{weight:.6f}", wanted])
        except _UNREACHABLE as error:
            now_mono = time.monotonic()
            if now_mono - self._last_warned >= 60.0:
                self._last_warned = now_mono
                log.warning("rate_limit_store_unavailable", store="redis", error_type=type(error).__name__)
            return None
        result = verdict(limit, int(current), int(previous), now, allowed=bool(taken))
        if wanted > 1 and int(taken) > 1:
            self._keep(key, window, int(taken) - 1, result.remaining)
            return Verdict(True, result.remaining + self._leases[key].left, result.reset, 0)
        return result

    def _keep(self, key: str, window: int, spare: int, remaining: int) -> None:
        """Keep what a round trip took beyond the request in hand (added to a lease of this window that concurrent
        requests of the same client took alongside), and forget the leases of past windows once a window."""
        lease = self._leases.get(key)
        if lease is not None and lease.window == window:
            lease.left += spare
            lease.remaining = min(lease.remaining, remaining)
        else:
            self._leases[key] = _Lease(window, spare, remaining)
        if window != self._swept:
            self._swept = window
            self._leases = {k: v for k, v in self._leases.items() if v.window >= window}

    async def aclose(self) -> None:
        await self._redis.aclose()


def request_counters(redis_url: str) -> RequestCounters:
    """Memory in one process (embedded), Redis shared by every API process (production)."""
    return RedisCounters(redis_url) if redis_url else MemoryCounters()
