"""Who is calling: bearer-token authentication, staff-role guards, and the optional signed-in subject.

The dependencies and guards here read the identity and consent use cases from the application's container (the
handlers receive theirs as dependencies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.errors import AuthenticationFailed, Forbidden
from dreamina.entrypoints.http.request import header_value
from dreamina.ports.staff import StaffRole

SECURED: list[dict[str, list[str]]] = [{"BearerToken": []}]
Credential = Callable[[ASGIConnection[Any, Any, Any, Any]], str | None]


def bearer_token(request: Request[Any, Any, Any]) -> str:
    scheme, _, token = header_value(request, b"authorization").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("missing or invalid access token")
    return token.strip()


def bearer_or_none(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, token = header_value(connection, b"authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


SESSION_COOKIE = "dreamina_session"
"""The web pages' session cookie: the opaque token of a session opened by the same sign-in as the API's (README:
Web UI). Only the pages read it; the JSON API reads the ``Authorization`` header alone."""


def session_cookie_or_none(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return connection.cookies.get(SESSION_COOKIE) or None


async def _authenticated(request: Request[Any, Any, Any], token: str) -> Principal:
    # The use cases come from the container, not as dependencies of their own: two fewer dependencies to resolve and
    # validate on every signed-in request (as the guards read it).
    container = request.app.state.container
    principal: Principal = await container.identity.sessions.authenticate(token)
    # Section 10: a notified subject's first request after a new version takes effect accepts it.
    await container.consent.policy_changes.on_authenticated(principal.account_id)
    return principal


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return await _authenticated(request, bearer_token(request))


async def provide_page_principal(request: Request[Any, Any, Any]) -> Principal:
    """The web pages' signed-in subject, from the session cookie (none: 401, which the pages turn into sign-in)."""
    token = session_cookie_or_none(request)
    if token is None:
        raise AuthenticationFailed("sign in first")
    return await _authenticated(request, token)


async def provide_optional_subject(request: Request[Any, Any, Any]) -> UUID | None:
    """The signed-in subject if a bearer token is sent (a bad token is a 401, not an anonymous request)."""
    token = bearer_or_none(request)
    if token is None:
        if header_value(request, b"authorization"):
            raise AuthenticationFailed("missing or invalid access token")
        return None
    return (await _authenticated(request, token)).account_id


AUTH = {"principal": Provide(provide_principal)}
PAGE_AUTH = {"principal": Provide(provide_page_principal)}
OPTIONAL_SUBJECT = {"subject": Provide(provide_optional_subject)}


def requires_role(*roles: StaffRole, credential: Credential = bearer_or_none) -> Guard:
    """A guard: the bearer token (or, for the web pages, the session cookie) must belong to a staff member holding
    one of ``roles``."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        identity = connection.app.state.container.identity
        token = credential(connection)
        if token is None:
            raise AuthenticationFailed("missing or invalid access token")
        principal = await identity.sessions.authenticate(token)
        role = await identity.staff.role_of(principal.account_id)
        if role not in roles:
            raise Forbidden("this needs a staff role: " + ", ".join(r.value for r in roles))
        connection.state.staff_principal = principal
        connection.state.staff_role = role  # the console's pages show each role only the sections it may use

    return guard


def provide_staff(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state.staff_principal
    return principal


STAFF = {"staff": Provide(provide_staff, sync_to_thread=False)}

# Who may do what, once: the JSON API's guards (bearer token) and the staff console's (session cookie) share these.
EVERY_ROLE = (StaffRole.SUPPORT, StaffRole.PRIVACY_OFFICER, StaffRole.ADMIN)  # read the request and report queues
ANALYST_ROLES = (StaffRole.PRIVACY_OFFICER, StaffRole.ADMIN)  # policy versions, analytics, the audit trail
DECIDER_ROLES = (StaffRole.PRIVACY_OFFICER, StaffRole.ADMIN)  # decide privacy requests and child reports
PRIVACY_DESK_ROLES = (StaffRole.PRIVACY_OFFICER, StaffRole.ADMIN)  # privacy tickets: support staff never see them
SUPPORT_DESK_ROLES = (StaffRole.SUPPORT, StaffRole.ADMIN)  # the other tickets
TRUST_AND_SAFETY_ROLES = (StaffRole.SUPPORT, StaffRole.ADMIN)  # abuse reports and moderation reviews

ANALYSTS = requires_role(*ANALYST_ROLES)
DECIDERS = requires_role(*DECIDER_ROLES)
ADMINS = requires_role(StaffRole.ADMIN)
EVERY_STAFF_ROLE = requires_role(*EVERY_ROLE)
PRIVACY_DESK = requires_role(*PRIVACY_DESK_ROLES)
SUPPORT_DESK = requires_role(*SUPPORT_DESK_ROLES)
TRUST_AND_SAFETY = requires_role(*TRUST_AND_SAFETY_ROLES)

CONSOLE_STAFF = requires_role(*ANALYST_ROLES, credential=session_cookie_or_none)
"""The console's policy desk, analytics and audit trail, whose API twins are guarded by ``ANALYSTS``: privacy
officers and admins."""
CONSOLE_READERS = requires_role(*EVERY_ROLE, credential=session_cookie_or_none)
"""The console's read-only queues whose API twins are guarded by ``EVERY_STAFF_ROLE``: every staff role."""
CONSOLE_DECIDERS = requires_role(*DECIDER_ROLES, credential=session_cookie_or_none)
"""The console's decisions whose API twins are guarded by ``DECIDERS``: privacy officers and admins."""
CONSOLE_PRIVACY_DESK = requires_role(*PRIVACY_DESK_ROLES, credential=session_cookie_or_none)
"""The privacy ticket queue (API twin guarded by ``PRIVACY_DESK``)."""
CONSOLE_SUPPORT_DESK = requires_role(*SUPPORT_DESK_ROLES, credential=session_cookie_or_none)
"""The support ticket queue (API twin guarded by ``SUPPORT_DESK``)."""
CONSOLE_TRUST_AND_SAFETY = requires_role(*TRUST_AND_SAFETY_ROLES, credential=session_cookie_or_none)
"""The abuse report and moderation review queues (API twins guarded by ``TRUST_AND_SAFETY``)."""
