"""What the web pages share: templates, static files, the session cookie, CSRF, and errors shown as pages.

The pages call the same use cases as the JSON API (README: Web UI). A browser session is the opaque token of a
session opened by the API's own sign-in (``routes_identity.sign_in``), kept server-side (hashed, expiring,
revocable) and carried in a ``Secure; HttpOnly; SameSite=Strict`` cookie that only the pages read. Every form
carries Litestar's CSRF token (double submit, HMAC-signed); the JSON API is bearer-token only and has no CSRF
middleware.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig

from dreamina.domain.privacy.errors import AuthenticationFailed, DomainError
from dreamina.entrypoints.http.auth import SESSION_COOKIE
from dreamina.entrypoints.http.problems import domain_status, safe_detail
from dreamina.settings import Settings

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
CSRF_COOKIE = "dreamina_csrf"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)


def csrf_secret(settings: Settings) -> str:
    """Derived from the master key when it is a setting (production: every process derives the same); else (the
    embedded profile, one process) a random one per process."""
    if settings.master_key:
        return hmac.new(settings.master_key.encode(), b"dreamina web csrf", hashlib.sha256).hexdigest()
    return secrets.token_hex(32)


def csrf_middleware(settings: Settings) -> DefineMiddleware:
    """CSRF protection for the pages' routers only (the JSON API takes no cookies, so it needs none)."""
    config = CSRFConfig(
        secret=csrf_secret(settings),
        cookie_name=CSRF_COOKIE,
        cookie_secure=True,
        cookie_httponly=True,
        cookie_samesite="strict",
    )
    return DefineMiddleware(CSRFMiddleware, config=config)


def page(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context=context, status_code=status_code)


def session_cookie(token: str, expires_at: datetime) -> Cookie:
    """``Secure``: Chromium and Firefox keep it on http://127.0.0.1 and http://localhost too (secure contexts)."""
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        expires=int(expires_at.timestamp()),
        secure=True,
        httponly=True,
        samesite="strict",
    )


def signed_out(to: str) -> Redirect:
    response = Redirect(path=to, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def error_pages(status_for: Mapping[type[DomainError], int]) -> dict[int | type[Exception], Any]:
    """Exception handlers for the pages: no (or an expired) session sends the browser to its section's sign-in;
    any other refusal is a page with the status the API answers (and its PII-free wording)."""

    def home(request: Request[Any, Any, Any]) -> str:
        return "/admin" if request.url.path.startswith("/admin") else "/privacy"

    def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
        if isinstance(exc, AuthenticationFailed):
            return signed_out(home(request))
        status = domain_status(status_for, exc)
        detail = safe_detail(exc.detail) if status < 500 else "something went wrong"
        return page("error.html", status, status=status, detail=detail, home=home(request))

    def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        status = exc.status_code if 400 <= exc.status_code < 500 else 500
        detail = safe_detail(exc.detail) if status < 500 else "something went wrong"
        return page("error.html", status, status=status, detail=detail, home=home(request))

    # ValidationException named too: the app's own handler for it (problem+json) would otherwise win the lookup
    return {DomainError: domain_error, ValidationException: http_error, HTTPException: http_error}
