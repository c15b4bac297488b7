"""The per-client counters behind the rate-limit budgets, in memory and in Redis: the same sliding minute, refusals
not counted, an honest Retry-After, and in Redis one atomic budget however many API processes share it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from dreamina.adapters.rate_limit_counters import (
    LEASE_MAX,
    WINDOW,
    MemoryCounters,
    RedisCounters,
    RequestCounters,
    lease_size,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # the start of a window (a multiple of 60)

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Callable[[Clock], RequestCounters]]:
    made: list[RequestCounters] = []
    namespace = f"test:rate:{uuid.uuid4().hex}"

    def make(clock: Clock) -> RequestCounters:
        if request.param == "memory":
            made.append(MemoryCounters(clock))
        else:
            made.append(RedisCounters(redis_url, namespace, clock))
        return made[-1]

    yield make
    for each in made:
        await each.aclose()


async def test_a_sliding_minute_with_an_honest_retry_after(counters: Callable[[Clock], RequestCounters]) -> None:
    clock = Clock()
    limiter = counters(clock)
    allowed = [await limiter.hit("general:a", 5) for _ in range(5)]
    assert all(v is not None and v.allowed for v in allowed)
    assert [v.remaining for v in allowed if v] == [4, 3, 2, 1, 0]
    refused = await limiter.hit("general:a", 5)
    assert refused is not None and not refused.allowed and refused.remaining == 0
    # five in this window: not before the next, and then until 5 * (1 - f) + 1 <= 5, i.e. f >= 0.2: 60 + 12 s
    assert refused.retry_after == WINDOW + 12
    # refusals are not counted: a client that waits exactly as long is let through
    clock.now += refused.retry_after - 1
    still = await limiter.hit("general:a", 5)
    assert still is not None and not still.allowed
    clock.now += 1
    after = await limiter.hit("general:a", 5)
    assert after is not None and after.allowed
    # another client, another budget: their own counts
    other = await limiter.hit("general:b", 5)
    assert other is not None and other.allowed and other.remaining == 4
    sensitive = await limiter.hit("sensitive:a", 1)
    assert sensitive is not None and sensitive.allowed


async def test_the_previous_minute_weighs_on_the_next(counters: Callable[[Clock], RequestCounters]) -> None:
    clock = Clock()
    limiter = counters(clock)
    for _ in range(10):
        assert (await limiter.hit("general:c", 10)).allowed  # type: ignore[union-attr]
    clock.now += WINDOW + WINDOW / 2  # half-way into the next window: the previous ten count as five
    verdicts = [await limiter.hit("general:c", 10) for _ in range(6)]
    assert [v.allowed for v in verdicts if v] == [True] * 5 + [False]
    # 10 * 0.5 + 5 in this window: one more fits once 10 * w + 5 + 1 <= 10, w <= 0.4, a tenth of a minute later
    last = verdicts[-1]
    assert last is not None and last.retry_after == 6
    clock.now += 5
    assert not (await limiter.hit("general:c", 10)).allowed  # type: ignore[union-attr]
    clock.now += 1
    assert (await limiter.hit("general:c", 10)).allowed  # type: ignore[union-attr]
    clock.now += WINDOW * 2 + 1  # both windows gone
    fresh = await limiter.hit("general:c", 10)
    assert fresh is not None and fresh.allowed and fresh.remaining == 9


async def test_many_processes_share_one_budget_atomically(redis_url: str) -> None:
    """Five API processes' counters (five clients of one Redis), 100 requests at once, a budget of 30: exactly 30
    are let through. The previous middleware read the history, decided, then wrote it back: racing processes each
    counted from the same history."""
    namespace = f"test:rate:{uuid.uuid4().hex}"
    clock = Clock()
    processes = [RedisCounters(redis_url, namespace, clock) for _ in range(5)]
    try:
        verdicts = await asyncio.gather(*(processes[i % 5].hit("general:shared", 30) for i in range(100)))
        assert sum(1 for v in verdicts if v is not None and v.allowed) == 30
    finally:
        for each in processes:
            await each.aclose()


async def test_the_redis_keys_hold_no_address_and_expire(redis_url: str) -> None:
    namespace = f"test:rate:{uuid.uuid4().hex}"
    limiter = RedisCounters(redis_url, namespace)
    client = Redis.from_url(redis_url)
    try:
        assert (await limiter.hit("general:0123abcd", 3)) is not None
        keys = [key.decode() async for key in client.scan_iter(match=f"{namespace}:*")]
        assert len(keys) == 1 and keys[0].startswith(f"{namespace}:general:0123abcd:")
        assert 0 < await client.ttl(keys[0]) <= 2 * WINDOW
    finally:
        await client.aclose()
        await limiter.aclose()


async def test_unreachable_redis_lets_requests_through() -> None:
    limiter = RedisCounters("redis://127.0.0.1:1/0")
    try:
        assert await limiter.hit("general:x", 1) is None
    finally:
        await limiter.aclose()


async def test_a_large_budget_is_counted_a_lease_at_a_time(redis_url: str) -> None:
    """A budget of 1,000 a minute: one round trip counts 20 requests in Redis (the one in hand and the next 19 of
    this process), spent from memory; the remaining count still falls by one a request; a new window takes a new
    lease."""
    assert lease_size(1000) == 20 and lease_size(600) == 12 and lease_size(99) == 1 and lease_size(10**8) == LEASE_MAX
    namespace = f"test:rate:{uuid.uuid4().hex}"
    clock = Clock()
    limiter = RedisCounters(redis_url, namespace, clock)
    client = Redis.from_url(redis_url)
    counter = f"{namespace}:general:lease:{int(clock.now // WINDOW)}"
    try:
        first = await limiter.hit("general:lease", 1000)
        assert first is not None and first.allowed and first.remaining == 999
        assert int(await client.get(counter) or 0) == 20
        rest = [await limiter.hit("general:lease", 1000) for _ in range(19)]
        assert [v.remaining for v in rest if v and v.allowed] == list(range(998, 979, -1))
        assert int(await client.get(counter) or 0) == 20  # spent from memory: no round trip
        again = await limiter.hit("general:lease", 1000)
        assert again is not None and again.remaining == 979 and int(await client.get(counter) or 0) == 40
        clock.now += WINDOW  # the lease ends with its window; what it held still counts in the previous one
        after = await limiter.hit("general:lease", 1000)
        assert after is not None and after.allowed
        assert int(await client.get(f"{namespace}:general:lease:{int(clock.now // WINDOW)}") or 0) == 20
    finally:
        await client.aclose()
        await limiter.aclose()


async def test_leases_never_exceed_a_shared_budget(redis_url: str) -> None:
    """Three API processes, a budget of 1,000 (leases of 20), 1,200 requests of one client, 30 at a time, spread
    over the processes: exactly 1,000 are let through, no more (each was counted in Redis before it was spent) and no
    fewer (the requests beyond the budget drain what the processes still held). The ten requests a process gets at
    once share one round trip's lease rather than each taking one: the first burst counts 60 in Redis, not 600."""
    namespace = f"test:rate:{uuid.uuid4().hex}"
    clock = Clock()
    processes = [RedisCounters(redis_url, namespace, clock) for _ in range(3)]
    client = Redis.from_url(redis_url)
    counter = f"{namespace}:general:many:{int(clock.now // WINDOW)}"
    try:
        allowed = 0
        for start in range(0, 1200, 30):
            burst = [processes[i % 3].hit("general:many", 1000) for i in range(start, start + 30)]
            allowed += sum(1 for v in await asyncio.gather(*burst) if v is not None and v.allowed)
            if start == 0:
                assert int(await client.get(counter) or 0) == 60
        assert allowed == 1000
        assert int(await client.get(counter) or 0) == 1000
    finally:
        await client.aclose()
        for each in processes:
            await each.aclose()


async def test_a_burst_while_redis_does_not_answer_is_let_through_at_once() -> None:
    """Twenty requests of one client at once against a Redis that accepts connections and never answers (a budget
    leased 20 at a time): the first round trip times out and all twenty are let through together, after one timeout,
    not one timeout after another."""
    import time

    released = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(1 << 16)
        await released.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter = RedisCounters(f"redis://127.0.0.1:{port}/0")
    try:
        started = time.monotonic()
        verdicts = await asyncio.gather(*(limiter.hit("general:burst", 1000) for _ in range(20)))
        assert verdicts == [None] * 20
        assert time.monotonic() - started < 6  # one socket timeout (2 s), not twenty
    finally:
        released.set()
        await limiter.aclose()
        server.close()
        await server.wait_closed()


async def test_requests_waiting_on_a_cancelled_round_trip_are_still_counted(redis_url: str) -> None:
    """The request whose round trip a burst waits on is cancelled (its client went away): the others take a lease of
    their own and are counted, none is let through uncounted."""
    namespace = f"test:rate:{uuid.uuid4().hex}"
    clock = Clock()
    limiter = RedisCounters(redis_url, namespace, clock)
    client = Redis.from_url(redis_url)
    try:
        first = asyncio.create_task(limiter.hit("general:gone", 1000))
        await asyncio.sleep(0)  # its round trip is out
        others = [asyncio.create_task(limiter.hit("general:gone", 1000)) for _ in range(5)]
        await asyncio.sleep(0)
        first.cancel()
        verdicts = await asyncio.gather(*others)
        assert all(v is not None and v.allowed for v in verdicts)
        counted = int(await client.get(f"{namespace}:general:gone:{int(clock.now // WINDOW)}") or 0)
        assert counted in (20, 40)  # the others' lease (and the cancelled one's, if Redis had counted it already)
    finally:
        await client.aclose()
        await limiter.aclose()
