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
from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

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
            exclude=["^/health$", "^/schema"] if budget == GENERAL else None,
        )
        for budget in BUDGETS
    ]


def rate_limit_stores(redis_url: str) -> dict[str, Store]:
    """Memory stores in one process (embedded), Redis shared by every API process (production)."""
    names = [f"rate_limit_{budget}" for budget in BUDGETS]
    if redis_url:
        from litestar.stores.redis import RedisStore

        return {name: RedisStore.with_client(url=redis_url, namespace=f"dreamina:{name}") for name in names}
    return {name: MemoryStore() for name in names}
