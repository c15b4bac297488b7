"""Attempt counting in Redis, shared by every process of a deployment."""

from __future__ import annotations

import math

from redis.asyncio import Redis


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
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def count(self, key: str) -> int:
        value = await self._redis.get(self._prefix + key)
        return int(value) if value is not None else 0

    async def retry_after(self, key: str) -> int:
        milliseconds = await self._redis.pttl(self._prefix + key)
        # PTTL is -2 for a missing key and -1 for one without expiry; round up so "0" means "retry now"
        return math.ceil(milliseconds / 1000) if milliseconds > 0 else 0

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
