"""ASGI middleware: the edge (client address, request ids and a PII-free access log, the rate-limit budgets); a
``before_send`` hook for the security headers."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from dreamina.adapters.logs import access_log
from dreamina.entrypoints.http.client_address import Network, with_client_behind_proxies
from dreamina.entrypoints.http.rate_limits import RateLimiter

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    # Browsers ignore HSTS over plain http, so it is safe to send always; behind TLS it pins https for two years.
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# The API documentation pages (/schema/*) are the only HTML served: their UIs load from these CDNs and start with an
# inline script. They show the public schema only, and the API authenticates by bearer token, never by cookie.
DOCS_CSP = (
    b"default-src 'none'; "
    b"script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://cdn.redoc.ly https://unpkg.com; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com https://unpkg.com; "
    b"font-src https://fonts.gstatic.com data:; img-src 'self' data: https://cdn.redoc.ly; connect-src 'self'; "
    b"worker-src blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# The web pages (/privacy, /admin, /account, their /static assets): every script and style is a file of our own
# origin (no inline code, no third-party origin), forms post only to us, and nothing may frame them.
PAGE_PREFIXES = ("/privacy", "/admin", "/account/", "/static/")
PAGE_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
API_ONLY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]


_REQUEST_ID = "dreamina_request_id"


def new_request_id() -> str:
    """16 random bytes in lower-case hex: 128 random bits, as a uuid4's 122, without making a UUID (3% of
    ``GET /health``). The form the logs keep as it is (``logs.own_request_id``)."""
    return os.urandom(16).hex()


def on_response_start(
    *hooks: Callable[[HTTPResponseStartEvent, Scope], None],
) -> Callable[[Message, Scope], Awaitable[None]]:
    """The app's one ``before_send`` hook: ``hooks`` in their order on a response's start message (the body's pass
    straight through). Litestar awaits every ``before_send`` hook on every message: three hooks, each a coroutine
    that returned at once on the body, made six awaits a response where one does."""

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            for hook in hooks:
                hook(message, scope)

    return before_send


def security_headers(message: HTTPResponseStartEvent, scope: Scope) -> None:
    """On a response's start (:func:`on_response_start`): the security headers and the request id on EVERY response,
    including the router's own 404 and 405 answers, which never reach route middleware."""
    headers = list(message.get("headers", []))
    present = {k.lower() for k, _ in headers}
    request_id = scope.get("state", {}).get(_REQUEST_ID) or new_request_id()
    headers.append((b"x-request-id", request_id.encode()))
    headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
    path = str(scope.get("path", ""))
    if path.startswith("/schema"):
        if b"content-security-policy" not in present:
            headers.append((b"content-security-policy", DOCS_CSP))
    elif path == "/privacy" or path.startswith(PAGE_PREFIXES):
        if b"content-security-policy" not in present:
            headers.append((b"content-security-policy", PAGE_CSP))
        if b"cache-control" not in present:
            headers.append((b"cache-control", b"no-store"))
    else:
        headers.extend(h for h in API_ONLY_HEADERS if h[0] not in present)
    message["headers"] = headers


def edge(trusted: Sequence[Network] = (), limiter: RateLimiter | None = None) -> Callable[[ASGIApp], ASGIApp]:
    """The API's one middleware, in three steps on every request: the client behind trusted proxies
    (``client_address``), an id and one access line when it ends (no client address, no query, no body), and the
    rate-limit budgets (``rate_limits``), counted inside the access log so a refusal is logged as its 429. One layer
    with one ``send`` wrapper (the status for the log, the budget's headers on the response) where there were three
    middlewares, each with a wrapper of its own: 16% of ``GET /v1/me``'s CPU in process for the three."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if trusted:
                scope = with_client_behind_proxies(scope, trusted)
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            request_id = new_request_id()
            started = time.perf_counter()
            status = 500
            scope.setdefault("state", {})[_REQUEST_ID] = request_id
            # Every line logged while the request runs carries its id (bound directly: the context manager's
            # generator cost more than the binding).
            bound = structlog.contextvars.bind_contextvars(request_id=request_id)
            try:
                budget = await limiter.check(scope) if limiter is not None else None

                async def send_wrapper(message: Message) -> None:
                    nonlocal status
                    if message["type"] == "http.response.start":
                        status = message["status"]
                        if budget:
                            message["headers"] = [*message.get("headers", []), *budget]
                    await send(message)

                await app(scope, receive, send_wrapper)
            except Exception as exc:
                # Raised before any response (e.g. a 429 from the budgets): the app-level handler answers with the
                # exception's own status, so that is the status to log.
                status = getattr(exc, "status_code", 500)
                raise
            finally:
                structlog.contextvars.reset_contextvars(**bound)
                route: Any = scope.get("path_template")
                access_log().info(
                    "request",
                    method=scope.get("method"),
                    route=route if isinstance(route, str) else "unmatched",
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    request_id=request_id,
                )

        return handle

    return middleware


request_context = edge()
"""Request ids and the access log alone (no proxies trusted, no budgets)."""
