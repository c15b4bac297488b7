"""Bearer-token authentication as a Litestar dependency."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from dreamina.bootstrap import Container
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.errors import AuthenticationFailed


def bearer_token(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("missing or invalid access token")
    return token.strip()


async def provide_principal(request: Request[Any, Any, Any], container: NamedDependency[Container]) -> Principal:
    principal = await container.accounts.authenticate(bearer_token(request))
    # Section 10: a notified subject's first request after a new version takes effect accepts it.
    await container.policy_changes.on_authenticated(principal.account_id)
    return principal


def provide_container(request: Request[Any, Any, Any]) -> Container:
    container: Container = request.app.state.container
    return container
