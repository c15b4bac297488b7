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

from litestar.exceptions import TooManyRequestsException
from litestar.types import Scope

from dreamina.adapters.rate_limit_counters import RequestCounters

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


HeaderList = list[tuple[bytes, bytes]]


class RateLimiter:
    """The three budgets: ``per_minute`` gives each budget's allowance per client. The key that hashes client
    addresses comes from the vault (the same in every API process sharing the counters), on the first request.
    Used by the API's one edge middleware (``middleware.edge``), inside its access log: a refusal is logged as 429."""

    def __init__(self, per_minute: Mapping[str, int], counters: RequestCounters) -> None:
        self._per_minute = per_minute
        self._counters = counters
        # id(route handler) -> its budget, the allowance and the headers that never change
        self._budgets: dict[int, tuple[str, int, HeaderList]] = {}
        self._secret: bytes | None = None

    def _budget(self, handler: Any) -> tuple[str, int, HeaderList]:
        found = self._budgets.get(id(handler))
        if found is None:
            budget = budget_of(handler.opt)
            allowance = self._per_minute[budget]
            fixed = [(b"ratelimit-policy", f"{allowance}; w=60".encode()), (b"ratelimit-limit", b"%d" % allowance)]
            found = self._budgets[id(handler)] = (budget, allowance, fixed)
        return found

    async def check(self, scope: Scope) -> HeaderList | None:
        """Count the request against its route's budget: the ``RateLimit-*`` headers its response carries, None for
        an unlimited path (or when the counters are unreachable: fail open, logged by the counters); a request
        over its budget raises 429 with ``Retry-After``."""
        path = scope.get("path", "")
        if path in UNLIMITED_PATHS or path.startswith(UNLIMITED_PREFIXES):
            return None
        budget, allowance, fixed = self._budget(scope["route_handler"])
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if self._secret is None:
            vault = scope["litestar_app"].state.container.infra.vault
            self._secret = bytes.fromhex(vault.blind_index("rate-limit", "v1"))
        key = budget + ":" + hmac.new(self._secret, address.encode(), hashlib.sha256).hexdigest()[:32]
        result = await self._counters.hit(key, allowance)
        if result is None:
            return None
        left = [(b"ratelimit-remaining", b"%d" % result.remaining), (b"ratelimit-reset", b"%d" % result.reset)]
        headers = [*fixed, *left]
        if not result.allowed:  # the same headers on the refusal, with when to come back
            refused = {name.decode(): value.decode() for name, value in headers}
            raise TooManyRequestsException(headers={**refused, "retry-after": str(result.retry_after)})
        return headers
