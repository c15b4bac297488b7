"""One contract for every AttemptCounter: the in-memory fake (movable clock) and Redis (real 1 s windows)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from dreamina.adapters.memory.throttle import InMemoryAttemptCounter
from dreamina.adapters.redis_throttle import RedisAttemptCounter
from dreamina.ports.security import AttemptCounter

REDIS_URL = os.environ.get("DREAMINA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class MovableClock:
    """A clock that stands still until a test moves it."""

    def __init__(self) -> None:
        self.current = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class CounterUnderTest:
    counter: AttemptCounter
    elapse: Callable[[float], Awaitable[None]]  # lets the given seconds pass, however the adapter tells time


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[CounterUnderTest]:
    if request.param == "memory":
        clock = MovableClock()

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        yield CounterUnderTest(InMemoryAttemptCounter(clock), advance)
        return

    prefix = f"test:attempts:{uuid.uuid4().hex}:"  # tests never share keys, even run in parallel
    counter = RedisAttemptCounter(REDIS_URL, prefix=prefix)
    yield CounterUnderTest(counter, asyncio.sleep)
    await counter.aclose()
    cleanup = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in cleanup.scan_iter(match=prefix + "*")]
        if keys:
            await cleanup.delete(*keys)
    finally:
        await cleanup.aclose()


async def test_hits_count_up_within_a_window(subject: CounterUnderTest) -> None:
    counter = subject.counter
    assert await counter.count("login:abc") == 0
    assert [await counter.hit("login:abc", 60) for _ in range(3)] == [1, 2, 3]
    assert await counter.count("login:abc") == 3


async def test_keys_are_counted_separately(subject: CounterUnderTest) -> None:
    await subject.counter.hit("login:a", 60)
    await subject.counter.hit("login:a", 60)
    await subject.counter.hit("login:b", 60)
    assert await subject.counter.count("login:a") == 2
    assert await subject.counter.count("login:b") == 1


async def test_retry_after_counts_down_to_the_end_of_the_window(subject: CounterUnderTest) -> None:
    counter = subject.counter
    assert await counter.retry_after("signup:x") == 0
    await counter.hit("signup:x", 60)
    assert 59 <= await counter.retry_after("signup:x") <= 60


async def test_later_hits_do_not_extend_the_window(subject: CounterUnderTest) -> None:
    counter = subject.counter
    await counter.hit("login:fixed", 1)
    await subject.elapse(0.6)
    assert await counter.hit("login:fixed", 1) == 2
    await subject.elapse(0.6)  # past the first hit's window, though not the second hit's
    assert await counter.count("login:fixed") == 0
    assert await counter.retry_after("login:fixed") == 0


async def test_a_new_window_starts_after_the_old_one_ends(subject: CounterUnderTest) -> None:
    counter = subject.counter
    await counter.hit("login:w", 1)
    await counter.hit("login:w", 1)
    assert await counter.retry_after("login:w") == 1
    await subject.elapse(1.2)
    assert await counter.count("login:w") == 0
    assert await counter.hit("login:w", 1) == 1
    assert await counter.retry_after("login:w") == 1


async def test_reset_forgets_the_key(subject: CounterUnderTest) -> None:
    counter = subject.counter
    await counter.hit("login:r", 60)
    await counter.hit("login:r", 60)
    await counter.reset("login:r")
    assert await counter.count("login:r") == 0
    assert await counter.retry_after("login:r") == 0
    assert await counter.hit("login:r", 60) == 1
    await counter.reset("login:never-seen")  # resetting an unknown key is fine


async def test_a_window_must_last_at_least_a_second(subject: CounterUnderTest) -> None:
    for window in (0, -5):
        with pytest.raises(ValueError):
            await subject.counter.hit("login:bad", window)
    assert await subject.counter.count("login:bad") == 0


async def test_concurrent_hits_are_all_counted(subject: CounterUnderTest) -> None:
    counts = await asyncio.gather(*(subject.counter.hit("signup:burst", 60) for _ in range(25)))
    assert sorted(counts) == list(range(1, 26))
    assert await subject.counter.count("signup:burst") == 25
