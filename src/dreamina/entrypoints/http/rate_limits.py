"""Per-client request limits (Litestar's rate-limit middleware), keyed without storing anyone's IP address.

Three budgets, each counted separately per client:

- ``sensitive``: abuse-prone routes (sign-up, sign-in, one-time identity codes, privacy requests, child reports),
  opted in with ``opt={"rate_limit": "sensitive"}``;
- ``content``: routes that spend compute or storage (uploads, generations), ``opt={"rate_limit": "content"}``;
- ``general``: every other route (health checks and the schema are never limited).

The client is identified by a keyed hash of its address, so the store (memory in one process, Redis shared by
every API process in production) never holds an IP. A refused request gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dreamina.adapters.logs import get_logger

log = get_logger("dreamina.rate_limits")
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

OPT_KEY = "rate_limit"
SENSITIVE = "sensitive"
CONTENT = "content"
GENERAL = "general"
BUDGETS = (SENSITIVE, CONTENT, GENERAL)


def _identifier(secret: bytes, budget: str) -> Any:
    def identify(request: Request[Any, Any, Any]) -> str:
        address = request.client.host if request.client else "unknown"
        return budget + ":" + hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]

    return identify


def budget_of(opt: Mapping[str, Any]) -> str:
    """The budget a route handler draws on (``general`` unless it opts into another)."""
    named = opt.get(OPT_KEY, GENERAL)
    if named not in BUDGETS:
        raise ValueError(f"unknown rate-limit budget {named!r}")
    return str(named)


def _in_budget(budget: str) -> Any:
    async def check(request: Request[Any, Any, Any]) -> bool:
        return budget_of(request.route_handler.opt) == budget

    return check


def rate_limit_configs(secret: bytes, per_minute: Mapping[str, int]) -> list[RateLimitConfig]:
    """One middleware per budget; ``per_minute`` gives each budget's allowance per client."""
    return [
        RateLimitConfig(
            rate_limit=("minute", per_minute[budget]),
            identifier_for_request=_identifier(secret, budget),
            check_throttle_handler=_in_budget(budget),
            store=f"rate_limit_{budget}",
            exclude=["^/health$", "^/ready$", "^/schema"] if budget == GENERAL else None,
        )
        for budget in BUDGETS
    ]


class FailOpenStore(Store):
    """A shared store for per-client budgets that lets requests through while it is unreachable (Redis down): the
    budgets are abuse control, not a security boundary (every secret has its own throttle, which fails closed), so an
    outage of Redis must not take the whole API down. Logged at most once a minute while it lasts."""

    def __init__(self, store: Store, name: str) -> None:
        self._store = store
        self._name = name
        self._last_warned = 0.0

    def _unavailable(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warned >= 60.0:
            self._last_warned = now
            log.warning("rate_limit_store_unavailable", store=self._name, error_type=type(error).__name__)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        try:
            return await self._store.get(key, renew_for)
        except _UNREACHABLE as error:
            self._unavailable(error)
            return None

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        try:
            await self._store.set(key, value, expires_in)
        except _UNREACHABLE as error:
            self._unavailable(error)

    async def delete(self, key: str) -> None:
        try:
            await self._store.delete(key)
        except _UNREACHABLE as error:
            self._unavailable(error)

    async def delete_all(self) -> None:
        await self._store.delete_all()

    async def exists(self, key: str) -> bool:
        try:
            return await self._store.exists(key)
        except _UNREACHABLE as error:
            self._unavailable(error)
            return False

    async def expires_in(self, key: str) -> int | None:
        try:
            return await self._store.expires_in(key)
        except _UNREACHABLE as error:
            self._unavailable(error)
            return None


def rate_limit_stores(redis_url: str) -> dict[str, Store]:
    """Memory stores in one process (embedded), Redis shared by every API process (production), failing open."""
    names = [f"rate_limit_{budget}" for budget in BUDGETS]
    if redis_url:
        from litestar.stores.redis import RedisStore

        return {
            name: FailOpenStore(RedisStore.with_client(url=redis_url, namespace=f"dreamina:{name}"), name)
            for name in names
        }
    return {name: MemoryStore() for name in names}
