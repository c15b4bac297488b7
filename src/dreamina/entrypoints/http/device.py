"""The device cookie (a random id, ``Secure; HttpOnly; SameSite=Lax``) and the GPC hook.

The cookie only remembers an anonymous device's consent choice, which is strictly necessary for honouring it.
A handler that needs a device id and finds none mints one into ``request.state``; the hook of
:func:`device_cookie_setter` (on the response's start) then adds the ``Set-Cookie`` header to the response.

With CORS origins configured the cookie is ``SameSite=None`` instead: a front end on another site (the consent
banner) sends it with ``credentials: "include"``, which ``Lax`` would drop. It never authenticates anyone, and a
cross-site write cannot forge a choice (``dreamina.entrypoints.http.cors``).
"""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.types import HTTPResponseStartEvent, Scope

from dreamina.bootstrap import Container
from dreamina.domain.consent.preferences import Requester, gpc_signalled, new_device_id, valid_device_id
from dreamina.domain.privacy.errors import AuthenticationFailed
from dreamina.entrypoints.http.auth import bearer_or_none, session_cookie_or_none
from dreamina.entrypoints.http.request import header_values

DEVICE_COOKIE = "dreamina_device"
DEVICE_COOKIE_MAX_AGE = 396 * 24 * 3600  # 13 months, the usual ceiling for a consent cookie
_STATE_KEY = "dreamina_new_device_id"


def device_id(request: Request[Any, Any, Any], *, mint: bool) -> str | None:
    """The device id from the cookie; with ``mint`` a new one (sent back as a cookie) when there is none."""
    found = valid_device_id(request.cookies.get(DEVICE_COOKIE))
    if found is not None:
        return found
    minted: str | None = request.scope.get("state", {}).get(_STATE_KEY)
    if minted is None and mint:
        minted = new_device_id()
        request.scope.setdefault("state", {})[_STATE_KEY] = minted
    return minted


def device_cookie_header(value: str, *, cross_site: bool = False) -> str:
    """The ``Set-Cookie`` value; ``cross_site``: ``SameSite=None`` (always ``Secure``) for configured CORS origins."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[DEVICE_COOKIE] = value
    morsel = cookie[DEVICE_COOKIE]
    morsel["path"] = "/"
    morsel["max-age"] = str(DEVICE_COOKIE_MAX_AGE)
    morsel["secure"] = True
    morsel["httponly"] = True
    morsel["samesite"] = "None" if cross_site else "Lax"
    return morsel.OutputString()


def device_cookie_setter(*, cross_site: bool) -> Callable[[HTTPResponseStartEvent, Scope], None]:
    """On a response's start (``middleware.on_response_start``): the cookie of a device id minted during the
    request."""

    def set_device_cookie(message: HTTPResponseStartEvent, scope: Scope) -> None:
        minted = scope.get("state", {}).get(_STATE_KEY)
        if minted:
            header = device_cookie_header(minted, cross_site=cross_site)
            MutableScopeHeaders.from_message(message).add("set-cookie", header)

    return set_device_cookie


async def honour_gpc(request: Request[Any, Any, Any]) -> None:
    """``before_request``: a ``Sec-GPC: 1`` request opts its device (and account, if signed in: a bearer token, or
    a web page's session cookie) out, once."""
    if not gpc_signalled(header_values(request, b"sec-gpc")):
        return
    container: Container = request.app.state.container
    subject_id = None
    # the API's bearer token, or the web pages' session cookie: a signed-in browser's account is opted out too
    token = bearer_or_none(request) or session_cookie_or_none(request)
    if token is not None:
        try:
            subject_id = (await container.identity.sessions.authenticate(token)).account_id
        except AuthenticationFailed:
            subject_id = None  # the handler answers 401 where it needs a subject
    await container.consent.choices.observe_gpc(
        Requester(subject_id=subject_id, device_id=device_id(request, mint=True))
    )
