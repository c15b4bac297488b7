"""Per-client request limits (Litestar's rate-limit middleware), keyed without storing anyone's IP address.

Two budgets: ``sensitive`` routes (sign-up, sign-in; later one-time codes, child reports, uploads, generations)
opt in with ``opt={"rate_limit": "sensitive"}``; every other route shares the ``general`` budget. The client is
identified by a keyed hash of its address, so the store (memory, or Redis in production) never holds an IP.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

SENSITIVE = "sensitive"
OPT_KEY = "rate_limit"


def _identifier(secret: bytes, group: str) -> Any:
    def identify(request: Request[Any, Any, Any]) -> str:
        address = request.client.host if request.client else "unknown"
        return group + ":" + hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]

    return identify


def _in_group(sensitive: bool) -> Any:
    async def check(request: Request[Any, Any, Any]) -> bool:
        is_sensitive = request.route_handler.opt.get(OPT_KEY) == SENSITIVE
        return is_sensitive if sensitive else not is_sensitive

    return check


def rate_limit_configs(secret: bytes, *, sensitive_per_minute: int, general_per_minute: int) -> list[RateLimitConfig]:
    return [
        RateLimitConfig(
            rate_limit=("minute", sensitive_per_minute),
            identifier_for_request=_identifier(secret, SENSITIVE),
            check_throttle_handler=_in_group(sensitive=True),
            store="rate_limit_sensitive",
        ),
        RateLimitConfig(
            rate_limit=("minute", general_per_minute),
            identifier_for_request=_identifier(secret, "general"),
            check_throttle_handler=_in_group(sensitive=False),
            store="rate_limit_general",
            exclude=["^/health$", "^/schema"],
        ),
    ]


def rate_limit_stores(redis_url: str) -> dict[str, Store]:
    """Memory stores in one process (embedded), Redis shared by every API process (production)."""
    if redis_url:
        from litestar.stores.redis import RedisStore

        return {
            name: RedisStore.with_client(url=redis_url, namespace=f"dreamina:{name}")
            for name in ("rate_limit_sensitive", "rate_limit_general")
        }
    return {"rate_limit_sensitive": MemoryStore(), "rate_limit_general": MemoryStore()}
