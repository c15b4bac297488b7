"""Per-client request limits: one middleware for the three budgets, keyed without storing anyone's IP address.

Three budgets, each counted separately per client:

- ``sensitive``: abuse-prone routes (sign-up, sign-in, one-time identity codes, privacy requests, child reports),
  opted in with ``opt={"rate_limit": "sensitive"}``;
- ``content``: routes that spend compute or storage (uploads, generations), ``opt={"rate_limit": "content"}``;
- ``general``: every other route (health checks and the schema are never limited).

The client is identified by a keyed hash of its address, so the counters (memory in one process, Redis shared by
every API process in production: ``adapters/rate_limit_counters.py``) never hold an IP. Each request is counted
once, atomically across processes (in Redis a busy client's requests are counted a small lease at a time, one round
trip for a dozen requests of the default general budget); a refused request gets 429 with ``Retry-After``,
and every limited response carries the ``RateLimit-*`` headers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dreamina.adapters.rate_limit_counters import RequestCounters, Verdict

OPT_KEY = "rate_limit"
SENSITIVE = "sensitive"
CONTENT = "content"
GENERAL = "general"
BUDGETS = (SENSITIVE, CONTENT, GENERAL)
UNLIMITED_PATHS = ("/health", "/ready")
UNLIMITED_PREFIXES = ("/schema",)


def budget_of(opt: Mapping[str, Any]) -> str:
    """The budget a route handler draws on (``general`` unless it opts into another)."""
    named = opt.get(OPT_KEY, GENERAL)
    if named not in BUDGETS:
        raise ValueError(f"unknown rate-limit budget {named!r}")
    return str(named)


def headers_of(limit: int, result: Verdict) -> dict[str, str]:
    return {
        "RateLimit-Policy": f"{limit}; w=60",
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(result.remaining),
        "RateLimit-Reset": str(result.reset),
    }


def rate_limited(per_minute: Mapping[str, int], counters: RequestCounters) -> Any:
    """The middleware factory: ``per_minute`` gives each budget's allowance per client. The key that hashes client
    addresses comes from the vault (the same in every API process sharing the counters), on the first request."""
    budgets: dict[int, str] = {}  # id(route handler) -> its budget, resolved once
    secrets: list[bytes] = []

    def middleware(app: ASGIApp) -> ASGIApp:
        async def limit(scope: Scope, receive: Receive, send: Send) -> None:
            path = scope.get("path", "")
            if scope["type"] != ScopeType.HTTP or path in UNLIMITED_PATHS or path.startswith(UNLIMITED_PREFIXES):
                await app(scope, receive, send)
                return
            handler = scope["route_handler"]
            budget = budgets.get(id(handler))
            if budget is None:
                budget = budgets[id(handler)] = budget_of(handler.opt)
            allowance = per_minute[budget]
            client = scope.get("client")
            address = client[0] if client else "unknown"
            if not secrets:
                vault = scope["litestar_app"].state.container.infra.vault
                secrets.append(bytes.fromhex(vault.blind_index("rate-limit", "v1")))
            key = budget + ":" + hmac.new(secrets[0], address.encode(), hashlib.sha256).hexdigest()[:32]
            result = await counters.hit(key, allowance)
            if result is None:  # the counters are unreachable: fail open (logged by the counters)
                await app(scope, receive, send)
                return
            headers = headers_of(allowance, result)
            if not result.allowed:
                raise TooManyRequestsException(headers={**headers, "Retry-After": str(result.retry_after)})
            encoded = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), *encoded]
                await send(message)

            await app(scope, receive, send_with_headers)

        return limit

    return middleware
