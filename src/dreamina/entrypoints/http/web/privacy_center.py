"""The privacy center (/privacy): sign in and out, your consent (and Global Privacy Control). Your data, your
content and the disclosures are in :mod:`privacy_data` and :mod:`privacy_content`; your requests, objections and
restriction in :mod:`privacy_rights`.

Each handler calls the use case its JSON API twin calls (named in its docstring); nothing here decides a rule.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from dreamina.domain.consent.preferences import Choices, ConsentRegistry, Requester, gpc_signalled
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.sessions import Sessions, SignInCodeRequired
from dreamina.domain.privacy.errors import AuthenticationFailed
from dreamina.entrypoints.http.auth import PAGE_AUTH, session_cookie_or_none
from dreamina.entrypoints.http.device import device_id
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.routes_identity import sign_in
from dreamina.entrypoints.http.web.pages import page, session_cookie, signed_out
from dreamina.ports.consent import ConsentMethod

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


class SignInForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    code: Annotated[str, msgspec.Meta(max_length=32)] = ""  # asked for past the sign-in throttle


class ConsentForm(msgspec.Struct):
    functional: bool = False
    analytics: bool = False
    marketing: bool = False


class SignInPages(Controller):
    """Sign-in and sign-out, the same for the privacy center and the staff console (``landing``: where a signed-in
    browser goes)."""

    landing = "/"
    title = ""
    dependencies = PAGE_AUTH  # "principal": the session cookie's subject, for the handlers that ask for one

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if session_cookie_or_none(request) is not None:
            return Redirect(path=self.landing, status_code=303)
        return page("sign_in.html", title=self.title, action=request.url.path.rstrip("/") + "/sign-in")

    @post("/sign-in", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SignInForm, FORM],
        sessions: NamedDependency[Sessions],
        consent_choices: NamedDependency[ConsentRegistry],
    ) -> Response[Any]:
        """As ``POST /v1/auth/token`` (its throttle included): a session token, kept in the session cookie."""
        try:
            issued = await sign_in(request, data.email, data.password, data.code or None, sessions, consent_choices)
        except AuthenticationFailed as exc:
            need_code = isinstance(exc, SignInCodeRequired) or bool(data.code)
            return page(
                "sign_in.html", 401, title=self.title, action=request.url.path, error=exc.detail, need_code=need_code
            )
        response = Redirect(path=self.landing, status_code=303)
        response.set_cookie(session_cookie(issued.access_token, issued.expires_at))
        return response

    @post("/sign-out")
    async def sign_out(self, principal: NamedDependency[Principal], sessions: NamedDependency[Sessions]) -> Redirect:
        """As ``POST /v1/auth/logout``: the session is revoked server-side, and the cookie dropped."""
        await sessions.sign_out(principal)
        return signed_out(self.path)


class PrivacyCenter(SignInPages):
    path = "/privacy"
    landing = "/privacy/data"
    title = "Privacy center"

    @get("/consent")
    async def consent(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        consent_choices: NamedDependency[ConsentRegistry],
    ) -> Template:
        """As ``GET /v1/consent``. A ``Sec-GPC: 1`` request was already honoured for this device and account by the
        app's ``honour_gpc`` hook (as for the API); the page says so, and shows the record it left."""
        requester = Requester(principal.account_id, device_id(request, mint=False))
        state = await consent_choices.state(requester)
        history = await consent_choices.history(requester)
        gpc_now = gpc_signalled(request.headers.getall("sec-gpc", []))
        return page("privacy_consent.html", state=state, history=history.records, gpc_now=gpc_now)

    @post("/consent")
    async def choose(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ConsentForm, FORM],
        principal: NamedDependency[Principal],
        consent_choices: NamedDependency[ConsentRegistry],
    ) -> Redirect:
        """As ``PUT /v1/consent`` (method ``settings``)."""
        requester = Requester(principal.account_id, device_id(request, mint=True))
        choices = Choices(data.functional, data.analytics, data.marketing)
        await consent_choices.choose(requester, choices, ConsentMethod.SETTINGS)
        return Redirect(path="/privacy/consent", status_code=303)
