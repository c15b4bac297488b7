"""Issue 12, findings 4 and 5: one race-free throttle in front of every sign-in, and past it a mailed code instead
of a lock-out. On memory, SQLite and PostgreSQL (the ``uow_factory`` backends)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from dreamina.adapters.redis_throttle import RedisAttemptCounter
from dreamina.bootstrap import Container, build_container
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.identity.sessions import SignInCodeRequired
from dreamina.domain.privacy.errors import AuthenticationFailed
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient

from .conftest import UNTHROTTLED, app_for, test_overrides
from .helpers import PASSWORD, sign_up_body
from .security_helpers import CountingHasher, advance, mails, sign_in_code

LIMIT = 5
WINDOW = 900


@pytest.fixture
async def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
async def container(uow_factory: Any, tmp_path: Any, hasher: CountingHasher) -> AsyncIterator[Container]:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    wired = build_container(settings, uow=uow_factory, **{**test_overrides(), "passwords": hasher})
    yield wired
    await wired.aclose()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app_for(container)) as test_client:
        yield test_client


async def _sign_in(client: AsyncTestClient, email: str, password: str, code: str | None = None) -> Any:
    body = {"email": email, "password": password} | ({"code": code} if code is not None else {})
    return await client.post("/v1/auth/token", json=body)


async def test_30_concurrent_wrong_sign_ins_check_at_most_the_limit(
    client: AsyncTestClient, container: Container, hasher: CountingHasher
) -> None:
    """Finding 4: the counter was read before it was incremented, so a burst was all checked."""
    assert container.settings.login_max_failures == LIMIT
    await client.post("/v1/accounts", json=sign_up_body("burst@example.com"))
    hasher.verified = 0
    answers = await asyncio.gather(*(_sign_in(client, "burst@example.com", f"guess-{i:04d}") for i in range(30)))
    assert hasher.verified <= LIMIT, f"{hasher.verified} passwords were checked against a limit of {LIMIT}"
    assert all(a.status_code == 401 for a in answers), [a.status_code for a in answers]
    assert sum(a.json()["code"] == "code_required" for a in answers) >= 30 - LIMIT
    assert len(mails(container, "burst@example.com", "sign_in_code")) == 1  # a burst mails one code


async def test_30_concurrent_wrong_sign_ins_at_the_use_case_check_at_most_the_limit(
    client: AsyncTestClient, container: Container, hasher: CountingHasher
) -> None:
    """The same burst straight into the use case, all 30 in flight at once: one code is mailed, however the
    challenges interleave (on PostgreSQL twenty were, each seeing none of the others' uncommitted codes)."""
    await client.post("/v1/accounts", json=sign_up_body("burst2@example.com"))
    hasher.verified = 0
    sign_in = container.identity.sessions.issue_token
    outcomes = await asyncio.gather(
        *(sign_in("burst2@example.com", f"guess-{i:04d}") for i in range(30)), return_exceptions=True
    )
    assert hasher.verified <= LIMIT, f"{hasher.verified} passwords were checked against a limit of {LIMIT}"
    assert all(isinstance(o, AuthenticationFailed) for o in outcomes), outcomes
    assert sum(isinstance(o, SignInCodeRequired) for o in outcomes) >= 30 - LIMIT
    assert len(mails(container, "burst2@example.com", "sign_in_code")) == 1


async def test_past_the_limit_the_owner_signs_in_with_the_mailed_code(
    client: AsyncTestClient, container: Container, hasher: CountingHasher
) -> None:
    """Finding 5: past the limit the owner is not locked out."""
    await client.post("/v1/accounts", json=sign_up_body("owner@example.com"))
    for _ in range(LIMIT):
        assert (await _sign_in(client, "owner@example.com", "wrong-guess-1")).status_code == 401
    checked = hasher.verified
    challenged = await _sign_in(client, "owner@example.com", PASSWORD)
    assert challenged.status_code == 401, challenged.text
    assert challenged.json()["code"] == "code_required"
    assert hasher.verified == checked  # nothing is verified past the limit
    code = sign_in_code(container, "owner@example.com")

    wrong_code = await _sign_in(client, "owner@example.com", PASSWORD, "000000" if code != "000000" else "111111")
    assert wrong_code.status_code == 401 and wrong_code.json()["code"] == "authentication_failed"
    signed = await _sign_in(client, "owner@example.com", PASSWORD, code)
    assert signed.status_code == 200, signed.text
    headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    assert (await _sign_in(client, "owner@example.com", PASSWORD, code)).status_code == 401  # single use
    # the throttle starts afresh for the owner
    assert (await _sign_in(client, "owner@example.com", PASSWORD)).status_code == 200


async def test_past_the_limit_a_right_and_a_wrong_password_are_answered_alike(
    client: AsyncTestClient, container: Container, hasher: CountingHasher
) -> None:
    """The attacker's guesses past the limit are no checks: no hash is verified, and the answer tells nothing."""
    await client.post("/v1/accounts", json=sign_up_body("alike@example.com"))
    for _ in range(LIMIT):
        await _sign_in(client, "alike@example.com", "wrong-guess-2")
    checked = hasher.verified
    right = await _sign_in(client, "alike@example.com", PASSWORD)
    wrong = await _sign_in(client, "alike@example.com", "wrong-guess-3")
    assert right.status_code == wrong.status_code == 401
    assert right.json() == wrong.json()
    assert hasher.verified == checked
    assert len(mails(container, "alike@example.com", "sign_in_code")) == 1  # one live code, not one per attempt


async def test_unknown_addresses_are_throttled_alike(
    client: AsyncTestClient, container: Container, hasher: CountingHasher
) -> None:
    await client.post("/v1/accounts", json=sign_up_body("known2@example.com"))
    answers: dict[str, Any] = {}
    for email in ("known2@example.com", "nobody2@example.com"):
        for _ in range(LIMIT):
            await _sign_in(client, email, "wrong-guess-4")
        answers[email] = await _sign_in(client, email, "wrong-guess-4")
    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()
    assert known.json()["code"] == "code_required"
    assert mails(container, "nobody2@example.com", "sign_in_code") == []


async def test_five_wrong_every_15_minutes_never_keeps_the_owner_out(
    client: AsyncTestClient, container: Container
) -> None:
    """Finding 5: an attacker who spends the whole budget every window used to lock the owner out for good."""
    await client.post("/v1/accounts", json=sign_up_body("target@example.com"))
    for window in range(4):
        for _ in range(LIMIT):
            await _sign_in(client, "target@example.com", f"attacker-{window}")
        advance(container, 60)
        attempt = await _sign_in(client, "target@example.com", PASSWORD)
        if attempt.status_code == 401:
            assert attempt.json()["code"] == "code_required"
            attempt = await _sign_in(
                client, "target@example.com", PASSWORD, sign_in_code(container, "target@example.com")
            )
        assert attempt.status_code == 200, (window, attempt.text)
        advance(container, WINDOW - 60)


async def test_wrong_sign_in_codes_are_throttled(
    client: AsyncTestClient, container: Container, hasher: CountingHasher
) -> None:
    await client.post("/v1/accounts", json=sign_up_body("codes@example.com"))
    for _ in range(LIMIT + 1):
        await _sign_in(client, "codes@example.com", "wrong-guess-5")
    code = sign_in_code(container, "codes@example.com")
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 8)]
    answers = await asyncio.gather(*(_sign_in(client, "codes@example.com", PASSWORD, c) for c in wrong))
    assert sorted(a.status_code for a in answers) == [401] * LIMIT + [429] * (len(wrong) - LIMIT)
    blocked = await _sign_in(client, "codes@example.com", PASSWORD, code)  # even the right code, now
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"
    assert int(blocked.headers["retry-after"]) > 0
    advance(container, WINDOW + 1)  # the window is over (and so is the code): the password alone works again
    assert (await _sign_in(client, "codes@example.com", PASSWORD)).status_code == 200


@pytest.mark.redis
async def test_30_concurrent_wrong_sign_ins_with_the_redis_counter_check_at_most_the_limit(
    uow_factory: Any, tmp_path: Any, hasher: CountingHasher
) -> None:
    """The production counter (Redis, shared by every API process) under the same burst."""
    prefix = f"test:signin:{uuid.uuid4().hex}:"
    attempts = RedisAttemptCounter(os.environ.get("DREAMINA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), prefix)
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    wired = build_container(
        settings, uow=uow_factory, **{**test_overrides(), "passwords": hasher, "attempts": attempts}
    )
    try:
        await wired.start()
        await wired.identity.registrations.sign_up(
            SignUp(
                email="redis-burst@example.com",
                password=PASSWORD,
                birth_date=date(1990, 4, 1),
                country="DE",
                region=None,
                accept_policy_version=1,
            )
        )
        hasher.verified = 0
        outcomes = await asyncio.gather(
            *(wired.identity.sessions.issue_token("redis-burst@example.com", f"guess-{i}") for i in range(30)),
            return_exceptions=True,
        )
        assert hasher.verified <= LIMIT, f"{hasher.verified} passwords were checked against a limit of {LIMIT}"
        assert sum(isinstance(o, SignInCodeRequired) for o in outcomes) >= 30 - LIMIT
    finally:
        await wired.aclose()
        await attempts.aclose()
