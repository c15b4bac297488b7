"""Routes of the identity module: sign-up, sign-in and out, the subject's own account."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from dreamina.domain.consent.preferences import ConsentRegistry
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.email_changes import EmailChanges
from dreamina.domain.identity.email_verification import EmailVerification
from dreamina.domain.identity.profiles import Profile, Profiles, check_changes, check_content_retention
from dreamina.domain.identity.proofs import InvalidToken, ReauthenticationRequired
from dreamina.domain.identity.registrations import Registrations, SignUp
from dreamina.domain.identity.sessions import IssuedToken, Sessions
from dreamina.entrypoints.http.auth import AUTH, SECURED
from dreamina.entrypoints.http.device import device_id
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.schemas import (
    AccountCreated,
    ProfileBody,
    ProfilePatch,
    SignUpBody,
    TokenBody,
    TokenRequest,
    TokenResponse,
)


def _profile(p: Profile) -> ProfileBody:
    return ProfileBody(
        id=p.id,
        email=p.email,
        display_name=p.display_name,
        birth_date=p.birth_date,
        country=p.country,
        region=p.region,
        status=p.status,
        created_at=p.created_at,
        updated_at=p.updated_at,
        content_retention_days=p.content_retention_days,
        email_verified=p.email_verified,
    )


async def sign_in(
    request: Request[Any, Any, Any],
    email: str,
    password: str,
    code: str | None,
    sessions: Sessions,
    consent_choices: ConsentRegistry,
) -> IssuedToken:
    """Sign in (the API's token and the web pages' session alike): past the throttle, and the mailed code; the
    device's consent choices carry over to the account."""
    issued = await sessions.issue_token(email, password, code, user_agent=request.headers.get("user-agent", ""))
    device = device_id(request, mint=False)
    if device is not None:
        principal = await sessions.authenticate(issued.access_token)
        await consent_choices.adopt_device_choices(principal.account_id, device)
    return issued


async def correct_profile(
    principal: Principal, changes: dict[str, Any], profiles: Profiles, email_changes: EmailChanges
) -> Profile:
    """What ``PATCH /v1/me`` does (its page twins, in the privacy center, call it too): ``changes`` holds the fields
    given, of ``display_name``, ``birth_date``, ``content_retention_days``, ``email`` and ``current_password``."""
    changes = dict(changes)
    current_password = changes.pop("current_password", None)
    new_email = changes.pop("email", None)
    retention = changes.pop("content_retention_days", msgspec.UNSET)
    # Everything is checked before anything is written or mailed.
    check_changes(changes)
    if retention is not msgspec.UNSET:
        check_content_retention(retention)
    if new_email is not None:
        await email_changes.request(principal, new_email, current_password)
    if changes:
        await profiles.update_profile(principal, changes)
    if retention is not msgspec.UNSET:
        await profiles.set_content_retention(principal, retention)
    return await profiles.profile(principal.account_id)


class AccountsController(Controller):
    path = "/v1"
    tags = ["identity"]

    @post(
        "/accounts",
        status_code=HTTP_201_CREATED,
        summary="Create an account",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 403, 409, 413, 422, 429),
    )
    async def sign_up(
        self, data: JSONBody[SignUpBody], registrations: NamedDependency[Registrations]
    ) -> AccountCreated:
        """Sign up. Below the minimum age of the jurisdiction: 403 ``age_requirement_not_met`` and nothing is
        stored. A taken email gets the same answer; its owner is told by mail."""
        account_id = await registrations.sign_up(
            SignUp(
                email=data.email,
                password=data.password,
                birth_date=data.birth_date,
                country=data.country,
                region=data.region,
                accept_policy_version=data.accept_policy_version,
                display_name=data.display_name,
            )
        )
        return AccountCreated(id=account_id)

    @post(
        "/auth/token",
        status_code=200,
        summary="Sign in: exchange email and password (past the throttle, and the mailed code) for a bearer token",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 401, 413, 429),
    )
    async def token(
        self,
        data: JSONBody[TokenRequest],
        request: Request[Any, Any, Any],
        sessions: NamedDependency[Sessions],
        consent_choices: NamedDependency[ConsentRegistry],
    ) -> TokenResponse:
        issued = await sign_in(request, data.email, data.password, data.code, sessions, consent_choices)
        return TokenResponse(access_token=issued.access_token, expires_at=issued.expires_at)

    @post(
        "/auth/logout",
        status_code=HTTP_204_NO_CONTENT,
        dependencies=AUTH,
        security=SECURED,
        summary="Revoke the current token",
        responses=problem_responses(401),
    )
    async def logout(self, principal: NamedDependency[Principal], sessions: NamedDependency[Sessions]) -> None:
        await sessions.sign_out(principal)

    @get(
        "/me",
        dependencies=AUTH,
        security=SECURED,
        summary="The signed-in subject's account",
        responses=problem_responses(401, 404, 410),
    )
    async def me(self, principal: NamedDependency[Principal], profiles: NamedDependency[Profiles]) -> ProfileBody:
        return _profile(await profiles.profile(principal.account_id))

    @patch(
        "/me",
        dependencies=AUTH,
        security=SECURED,
        summary="Correct your display name or birth date, or ask to change your email",
        responses=problem_responses(400, 401, 403, 404, 410, 413, 422, 429),
    )
    async def update_me(
        self,
        data: JSONBody[ProfilePatch],
        principal: NamedDependency[Principal],
        profiles: NamedDependency[Profiles],
        email_changes: NamedDependency[EmailChanges],
    ) -> ProfileBody:
        """A new ``email`` needs ``current_password`` (else 403 ``reauthentication_required``) and changes nothing
        yet: the new address is mailed a confirmation link and the old one is told, with an undo link. The answer
        is the same whether or not another account has that address."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        return _profile(await correct_profile(principal, changes, profiles, email_changes))

    @post(
        "/auth/verify-email",
        status_code=HTTP_204_NO_CONTENT,
        summary="Verify the account's address with the token from the verification mail",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 413, 429),
    )
    async def verify_email(self, data: JSONBody[TokenBody], verification: NamedDependency[EmailVerification]) -> None:
        """An unknown, used or expired token: 400 ``invalid_token``."""
        await verification.verify(data.token)

    @post(
        "/auth/verify-email/resend",
        status_code=HTTP_202_ACCEPTED,
        dependencies=AUTH,
        security=SECURED,
        summary="Mail a new verification link to the account's address (the older one stops working)",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(401, 404, 410, 429),
    )
    async def resend_verification(
        self, principal: NamedDependency[Principal], verification: NamedDependency[EmailVerification]
    ) -> None:
        """Nothing is sent for an address already verified; a few mails per hour at most (429 past them)."""
        await verification.resend(principal)

    @post(
        "/me/email/confirm",
        status_code=HTTP_204_NO_CONTENT,
        summary="Confirm a new address with the token mailed to it; every other session is signed out",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 413, 429),
    )
    async def confirm_email(self, data: JSONBody[TokenBody], email_changes: NamedDependency[EmailChanges]) -> None:
        """The token is the proof (it reached the new address), so no sign-in is needed. Unknown, used or expired:
        400 ``invalid_token``."""
        await email_changes.confirm(data.token)

    @post(
        "/me/email/undo",
        status_code=HTTP_204_NO_CONTENT,
        summary="Undo an address change with the token mailed to the old address; every session is signed out",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 413, 429),
    )
    async def undo_email_change(self, data: JSONBody[TokenBody], email_changes: NamedDependency[EmailChanges]) -> None:
        """Valid for 7 days from the request. Unknown, used or expired: 400 ``invalid_token``."""
        await email_changes.undo(data.token)


FACE = HttpFace(
    routes=[AccountsController],
    problems={ReauthenticationRequired: 403, InvalidToken: 400},
    dependencies={
        "registrations": lambda c: c.identity.registrations,
        "sessions": lambda c: c.identity.sessions,
        "profiles": lambda c: c.identity.profiles,
        "verification": lambda c: c.identity.verification,
        "email_changes": lambda c: c.identity.email_changes,
    },
)
