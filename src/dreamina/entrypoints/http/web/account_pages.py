"""The account pages (/account): sign up, the pages the mailed links open (verify an address, confirm or undo an
address change), and a forgotten password's reset.

Every mailed link is ``<public base URL>/account/<page>#token=...`` (``AccountLinks``): the token rides in the
fragment, which a browser never sends to a server, so no access log holds it. ``/static/account.js`` copies it into
the page's form and drops it from the address bar; without script the form asks for it to be pasted. The person
presses the button: opening a link never changes anything by itself (a mail scanner that follows links confirms
nothing). Each handler calls the use case its JSON API twin calls (named in its docstring).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from dreamina.domain.consent.policy_versions import PolicyCatalogue
from dreamina.domain.identity.email_changes import EmailChanges
from dreamina.domain.identity.email_verification import EmailVerification
from dreamina.domain.identity.password_changes import PasswordChanges
from dreamina.domain.identity.password_policy import MIN_PASSWORD
from dreamina.domain.identity.registrations import Registrations, SignUp
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.web.pages import page
from dreamina.entrypoints.http.web.privacy_center import FORM

Text = Annotated[str, msgspec.Meta(max_length=1024)]


class SignUpForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=320)]
    password: Text
    birth_date: Annotated[str, msgspec.Meta(max_length=10)]
    country: Annotated[str, msgspec.Meta(max_length=8)]
    accept_policy_version: Annotated[str, msgspec.Meta(max_length=16)] = ""  # the checkbox: absent when unticked
    region: Annotated[str, msgspec.Meta(max_length=16)] = ""
    display_name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class TokenForm(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class ResetRequestForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=320)]


class ResetForm(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    new_password: Text


TOKEN_PAGES: dict[str, tuple[str, str, str]] = {  # page: (heading, button, what is done)
    "verify-email": ("Verify your email address", "Verify my address", "Your email address is verified."),
    "confirm-email": ("Confirm your new email address", "Confirm my new address", "Your new address is confirmed."),
    "undo-email-change": (
        "Undo the change of your email address",
        "Undo the change",
        "Your old address is back and every session is signed out. Sign in, then change your password.",
    ),
}


def _done(message: str) -> Template:
    return page("account_done.html", message=message)


class AccountPages(Controller):
    path = "/account"

    @get("/sign-up")
    async def sign_up_form(self, policies: NamedDependency[PolicyCatalogue]) -> Template:
        """The form of ``POST /v1/accounts``, with the policy version in effect to accept."""
        try:
            policy = await policies.current()
        except NotFound:
            policy = None
        return page("account_sign_up.html", policy=policy, min_password=MIN_PASSWORD)

    @post("/sign-up", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def sign_up(
        self, data: Annotated[SignUpForm, FORM], registrations: NamedDependency[Registrations]
    ) -> Template:
        """As ``POST /v1/accounts``: below the jurisdiction's minimum age nothing is stored; a taken address gets the
        same answer (its owner is told by mail)."""
        if not data.accept_policy_version:
            raise InvalidInput("read and accept the privacy policy to create an account")
        try:
            birth = date.fromisoformat(data.birth_date)
            version: int | str = int(data.accept_policy_version)
        except ValueError as exc:
            raise InvalidInput("the birth date must be a date (YYYY-MM-DD)") from exc
        await registrations.sign_up(
            SignUp(
                email=data.email,
                password=data.password,
                birth_date=birth,
                country=data.country.strip().upper(),
                region=data.region.strip().upper() or None,
                accept_policy_version=version,
                display_name=data.display_name.strip() or None,
            )
        )
        return _done("Check your mail: we sent a link to verify your address. Then sign in.")

    @get("/password-reset")
    async def reset_request_form(self) -> Template:
        return page("account_reset_request.html")

    @post("/password-reset", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def request_reset(
        self, data: Annotated[ResetRequestForm, FORM], password_changes: NamedDependency[PasswordChanges]
    ) -> Template:
        """As ``POST /v1/auth/password-reset``: the same answer for every address, registered or not."""
        await password_changes.request_reset(data.email)
        return page("account_reset.html", sent=True, min_password=MIN_PASSWORD)

    @get("/password-reset/complete")
    async def reset_form(self) -> Template:
        return page("account_reset.html", sent=False, min_password=MIN_PASSWORD)

    @post("/password-reset/complete", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def complete_reset(
        self, data: Annotated[ResetForm, FORM], password_changes: NamedDependency[PasswordChanges]
    ) -> Template:
        """As ``POST /v1/auth/password-reset/complete``: every session is signed out."""
        await password_changes.complete_reset(data.token, data.new_password)
        return _done("Your password is changed and every session is signed out. Sign in with the new password.")

    @get("/{name:str}")
    async def token_form(self, name: FromPath[str]) -> Response[Any]:
        """The page a mailed link opens (``name``: one of ``TOKEN_PAGES``)."""
        if name not in TOKEN_PAGES:
            raise NotFound("no such page")
        heading, button, _ = TOKEN_PAGES[name]
        return page("account_token.html", page_name=name, heading=heading, button=button)

    @post("/{name:str}", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def use_token(
        self,
        name: FromPath[str],
        data: Annotated[TokenForm, FORM],
        verification: NamedDependency[EmailVerification],
        email_changes: NamedDependency[EmailChanges],
    ) -> Template:
        """As ``POST /v1/auth/verify-email``, ``POST /v1/me/email/confirm`` or ``POST /v1/me/email/undo``: an unknown,
        used or expired token is refused (400)."""
        if name == "verify-email":
            await verification.verify(data.token)
        elif name == "confirm-email":
            await email_changes.confirm(data.token)
        elif name == "undo-email-change":
            await email_changes.undo(data.token)
        else:
            raise NotFound("no such page")
        return _done(TOKEN_PAGES[name][2])
