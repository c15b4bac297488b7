"""Attempt counting in Redis, shared by every process of a deployment."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dreamina.domain.privacy.errors import StoreUnavailable


@asynccontextmanager
async def _reachable() -> AsyncIterator[None]:
    """Redis down is an outage (503 with Retry-After), not a bug; and a throttle that cannot count refuses rather
    than letting every guess through."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        raise StoreUnavailable("the attempt counter is unavailable; try again shortly") from error


class RedisAttemptCounter:
    """Fixed windows in Redis: ``INCR`` and ``EXPIRE … NX`` in one transaction; the first hit sets the window.

    Needs Redis 7.0+ (``EXPIRE NX``). Keys are stored as ``prefix + key``; they must hold no personal data.
    """

    def __init__(self, redis_url: str, prefix: str = "dreamina:attempts:") -> None:
        self._redis: Redis = Redis.from_url(redis_url)
        self._prefix = prefix

    async def hit(self, key: str, window_seconds: int) -> int:
        if window_seconds < 1:
            raise ValueError("window_seconds must be at least 1")
        name = self._prefix + key
        async with _reachable(), self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def count(self, key: str) -> int:
        async with _reachable():
            value = await self._redis.get(self._prefix + key)
        return int(value) if value is not None else 0

    async def retry_after(self, key: str) -> int:
        async with _reachable():
            milliseconds = await self._redis.pttl(self._prefix + key)
        # PTTL is -2 for a missing key and -1 for one without expiry; round up so "0" means "retry now"
        return math.ceil(milliseconds / 1000) if milliseconds > 0 else 0

    async def reset(self, key: str) -> None:
        async with _reachable():
            await self._redis.delete(self._prefix + key)

    async def ping(self) -> bool:
        """Whether Redis answers (the readiness check)."""
        try:
            return bool(await self._redis.ping())  # type: ignore[misc]  # redis-py types ping as sync or async
        except (RedisConnectionError, RedisTimeoutError, OSError):
            return False

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
