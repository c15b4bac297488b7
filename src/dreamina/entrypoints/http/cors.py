"""Strict CORS: only the configured exact origins, which may send the ``dreamina_device`` cookie (credentials).

Credentials let a front end on a configured origin (the consent banner, ``/static/consent.js``) send the device
cookie that keys an anonymous device's consent choice. They never authenticate: the API reads bearer tokens only, and
the pages' session cookie stays ``SameSite=Strict``. Cross-site writes stay closed: every write with a body takes
``application/json`` only (415 otherwise, so no form can forge one), and a JSON write from another origin needs a
preflight, which only the configured origins pass.
"""

from __future__ import annotations

from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.types import HTTPResponseStartEvent, Scope

from dreamina.settings import Settings, cors_origins


def cors_config(settings: Settings) -> CORSConfig | None:
    """The configured origins only (never ``*``: the settings refuse it), with credentials, and only the headers the
    API reads."""
    origins = cors_origins(settings)
    if not origins:
        return None  # same-origin only: browsers refuse cross-origin reads
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=True,
        expose_headers=["Retry-After", "X-Request-Id"],
        max_age=600,
    )


def credentials_for_allowed_origins(message: HTTPResponseStartEvent, scope: Scope) -> None:
    """On a response's start (``middleware.on_response_start``, after the CORS middleware):
    ``Access-Control-Allow-Credentials`` only beside an echoed allowed origin (Litestar adds it to every answer to an
    ``Origin``), and ``Vary: Origin`` on every answer to one, allowed or not, so that no cache hands one origin's
    answer to another."""
    if not any(name == b"origin" for name, _ in scope.get("headers", [])):
        return
    headers = MutableScopeHeaders.from_message(message)
    if "access-control-allow-origin" not in headers:
        del headers["access-control-allow-credentials"]
    varies = [v.strip().lower() for value in headers.getall("vary", []) for v in value.split(",")]
    if "origin" not in varies and "*" not in varies:
        headers.add("vary", "Origin")
