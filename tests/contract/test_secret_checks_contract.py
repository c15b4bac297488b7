"""The one throttle for secrets over every AttemptCounter (the in-memory fake and Redis): a burst of checks for one
owner, all in flight at once, admits exactly the limit (issue 12, finding 4: counted before the check, atomically)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.crypto import InMemoryKeyVault
from dreamina.adapters.memory.throttle import InMemoryAttemptCounter
from dreamina.adapters.redis_throttle import RedisAttemptCounter
from dreamina.domain.privacy.errors import TooManyAttempts
from dreamina.domain.privacy.secrets import SecretChecks, SecretKind, ThrottleRules
from dreamina.ports.security import AttemptCounter

REDIS_URL = os.environ.get("DREAMINA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LIMIT = 5


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def counter(request: pytest.FixtureRequest) -> AsyncIterator[AttemptCounter]:
    if request.param == "memory":
        yield InMemoryAttemptCounter(MovableClock())
        return
    prefix = f"test:secrets:{uuid.uuid4().hex}:"
    redis_counter = RedisAttemptCounter(REDIS_URL, prefix=prefix)
    yield redis_counter
    await redis_counter.aclose()
    cleanup = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in cleanup.scan_iter(match=prefix + "*")]
        if keys:
            await cleanup.delete(*keys)
    finally:
        await cleanup.aclose()


def _checks(counter: AttemptCounter) -> SecretChecks:
    return SecretChecks(counter, InMemoryKeyVault(), ThrottleRules(limit=LIMIT, window_seconds=60))


async def test_a_burst_of_30_admits_exactly_the_limit(counter: AttemptCounter) -> None:
    checks = _checks(counter)
    outcomes = await asyncio.gather(
        *(checks.admit(SecretKind.SIGN_IN, "burst@example.com") for _ in range(30)), return_exceptions=True
    )
    assert sum(o is None for o in outcomes) == LIMIT
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 30 - LIMIT and all(isinstance(o, TooManyAttempts) for o in refused)
    assert all(0 < o.retry_after_seconds <= 60 for o in refused if isinstance(o, TooManyAttempts))


async def test_owners_and_kinds_have_budgets_of_their_own_and_passing_resets(counter: AttemptCounter) -> None:
    checks = _checks(counter)
    for _ in range(LIMIT):
        await checks.admit(SecretKind.PASSWORD, "owner-a")
    with pytest.raises(TooManyAttempts):
        await checks.admit(SecretKind.PASSWORD, "owner-a")
    await checks.admit(SecretKind.PASSWORD, "owner-b")
    await checks.admit(SecretKind.PRIVACY_CODE, "owner-a")
    assert await checks.exceeded(SecretKind.PASSWORD, "owner-a")
    await checks.passed(SecretKind.PASSWORD, "owner-a")
    assert not await checks.exceeded(SecretKind.PASSWORD, "owner-a")
    await checks.admit(SecretKind.PASSWORD, "owner-a")


async def test_first_is_true_for_exactly_one_of_a_burst(counter: AttemptCounter) -> None:
    checks = _checks(counter)
    firsts = await asyncio.gather(*(checks.first(SecretKind.RESET_MAIL, "x", 60) for _ in range(20)))
    assert firsts.count(True) == 1


async def test_keys_hold_no_personal_data(counter: AttemptCounter) -> None:
    await _checks(counter).admit(SecretKind.SIGN_IN, "someone@example.com")
    if isinstance(counter, InMemoryAttemptCounter):
        assert all("someone" not in key and "example" not in key for key in counter.windows)
