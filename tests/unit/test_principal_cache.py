"""The per-process cache of checked bearer tokens: a few seconds at most, never past a session's expiry, bounded,
and forgetting a session or a whole account at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from dreamina.adapters.sql.principal_cache import INFO_KEY, PrincipalCache, apply_committed, record_change
from dreamina.ports.identity import AuthSession

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def session(account: uuid.UUID | None = None, expires_in: timedelta = timedelta(days=7)) -> AuthSession:
    return AuthSession(
        id=uuid.uuid4(),
        account_id=account or uuid.uuid4(),
        token_hash=uuid.uuid4().hex * 2,
        created_at=NOW,
        expires_at=NOW + expires_in,
        last_used_at=None,
        device_class="desktop",
    )


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_the_ttl_and_never_past_the_sessions_expiry() -> None:
    ticks = Ticks()
    cache = PrincipalCache(5.0, clock=ticks)
    kept, short = session(), session(expires_in=timedelta(seconds=2))
    cache.put(kept)
    cache.put(short)
    assert cache.get(kept.token_hash, NOW) == kept
    assert cache.get(short.token_hash, NOW + timedelta(seconds=2)) is None  # expired by the caller's clock
    ticks.now += 4.9
    assert cache.get(kept.token_hash, NOW) == kept
    ticks.now += 0.1
    assert cache.get(kept.token_hash, NOW) is None


def test_forgetting_a_session_or_an_account_and_touching() -> None:
    cache = PrincipalCache(5.0)
    account = uuid.uuid4()
    one, two, other = session(account), session(account), session()
    for each in (one, two, other):
        cache.put(each)
    cache.touched(one.id, NOW + timedelta(minutes=6))
    assert cache.get(one.token_hash, NOW).last_used_at == NOW + timedelta(minutes=6)  # type: ignore[union-attr]
    cache.forget(("session", one.id))
    assert cache.get(one.token_hash, NOW) is None and cache.get(two.token_hash, NOW) == two
    cache.put(one)
    cache.forget(("account", account))
    assert cache.get(one.token_hash, NOW) is None and cache.get(two.token_hash, NOW) is None
    assert cache.get(other.token_hash, NOW) == other


async def test_a_change_is_forgotten_when_recorded_and_again_when_committed() -> None:
    cache = PrincipalCache(5.0)
    account = uuid.uuid4()
    info: dict[str, object] = {INFO_KEY: cache}
    cache.put(first := session(account))
    await record_change(SimpleNamespace(info=info), ("account", account))  # type: ignore[arg-type]
    assert cache.get(first.token_hash, NOW) is None
    cache.put(first)  # a read racing the uncommitted write put the old row back
    apply_committed(info)
    assert cache.get(first.token_hash, NOW) is None


def test_bounded_and_off_at_zero() -> None:
    cache = PrincipalCache(5.0, max_entries=3)
    sessions = [session() for _ in range(5)]
    for each in sessions:
        cache.put(each)
    assert [cache.get(s.token_hash, NOW) is not None for s in sessions] == [False, False, True, True, True]
    off = PrincipalCache(0.0)
    off.put(sessions[0])
    assert off.get(sessions[0].token_hash, NOW) is None


def test_a_cache_that_needs_a_listener_holds_nothing_without_one() -> None:
    cache = PrincipalCache(5.0, needs_listener=True)
    kept = session()
    cache.put(kept)
    assert cache.get(kept.token_hash, NOW) is None
    cache.listening(True)
    cache.put(kept)
    assert cache.get(kept.token_hash, NOW) == kept
    cache.on_notice(f"session:{kept.id}")
    assert cache.get(kept.token_hash, NOW) is None
    cache.put(kept)
    cache.on_notice("garbage")  # ignored
    cache.listening(False)  # the connection was lost: whatever it missed is not kept
    cache.listening(True)
    assert cache.get(kept.token_hash, NOW) is None
