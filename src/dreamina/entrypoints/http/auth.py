"""Who is calling: bearer-token authentication, staff-role guards, and the optional signed-in subject.

Dependencies here receive the identity and consent use cases like handlers do; only the guards (which Litestar
gives no dependencies) read them from the application's container.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from dreamina.domain.consent.policy_changes import PolicyChanges
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.sessions import Sessions
from dreamina.domain.privacy.errors import AuthenticationFailed, Forbidden
from dreamina.ports.staff import StaffRole

SECURED: list[dict[str, list[str]]] = [{"BearerToken": []}]


def bearer_token(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("missing or invalid access token")
    return token.strip()


def bearer_or_none(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def provide_principal(
    request: Request[Any, Any, Any], sessions: NamedDependency[Sessions], policy_changes: NamedDependency[PolicyChanges]
) -> Principal:
    principal = await sessions.authenticate(bearer_token(request))
    # Section 10: a notified subject's first request after a new version takes effect accepts it.
    await policy_changes.on_authenticated(principal.account_id)
    return principal


async def provide_optional_subject(
    request: Request[Any, Any, Any], sessions: NamedDependency[Sessions], policy_changes: NamedDependency[PolicyChanges]
) -> UUID | None:
    """The signed-in subject if a bearer token is sent (a bad token is a 401, not an anonymous request)."""
    token = bearer_or_none(request)
    if token is None:
        if request.headers.get("authorization"):
            raise AuthenticationFailed("missing or invalid access token")
        return None
    principal = await sessions.authenticate(token)
    await policy_changes.on_authenticated(principal.account_id)
    return principal.account_id


AUTH = {"principal": Provide(provide_principal)}
OPTIONAL_SUBJECT = {"subject": Provide(provide_optional_subject)}


def requires_role(*roles: StaffRole) -> Guard:
    """A guard: the bearer token must belong to a staff member holding one of ``roles``."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        identity = connection.app.state.container.identity
        scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("missing or invalid access token")
        principal = await identity.sessions.authenticate(token.strip())
        role = await identity.staff.role_of(principal.account_id)
        if role not in roles:
            raise Forbidden("this needs a staff role: " + ", ".join(r.value for r in roles))
        connection.state.staff_principal = principal

    return guard


def provide_staff(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state.staff_principal
    return principal


STAFF = {"staff": Provide(provide_staff, sync_to_thread=False)}
ANALYSTS = requires_role(StaffRole.PRIVACY_OFFICER, StaffRole.ADMIN)
DECIDERS = requires_role(StaffRole.PRIVACY_OFFICER, StaffRole.ADMIN)
ADMINS = requires_role(StaffRole.ADMIN)
EVERY_STAFF_ROLE = requires_role(StaffRole.SUPPORT, StaffRole.PRIVACY_OFFICER, StaffRole.ADMIN)
