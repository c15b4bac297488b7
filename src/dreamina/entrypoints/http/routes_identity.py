"""Routes of the identity module: sign-up, sign-in and out, the subject's own account."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dreamina.domain.consent.preferences import ConsentRegistry
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.profiles import Profile, Profiles, check_content_retention
from dreamina.domain.identity.reauthentication import ReauthenticationRequired
from dreamina.domain.identity.registrations import Registrations, SignUp
from dreamina.domain.identity.sessions import Sessions
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
    )


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
        issued = await sessions.issue_token(
            data.email, data.password, data.code, user_agent=request.headers.get("user-agent", "")
        )
        device = device_id(request, mint=False)
        if device is not None:  # the device's consent choices carry over to the account
            principal = await sessions.authenticate(issued.access_token)
            await consent_choices.adopt_device_choices(principal.account_id, device)
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
        summary="Correct your email, display name or birth date",
        responses=problem_responses(400, 401, 404, 409, 410, 413, 422),
    )
    async def update_me(
        self,
        data: JSONBody[ProfilePatch],
        principal: NamedDependency[Principal],
        profiles: NamedDependency[Profiles],
    ) -> ProfileBody:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        retention = changes.pop("content_retention_days", msgspec.UNSET)
        if retention is msgspec.UNSET:
            return _profile(await profiles.update_profile(principal, changes))
        check_content_retention(retention)  # refused before anything is written
        if changes:
            await profiles.update_profile(principal, changes)
        return _profile(await profiles.set_content_retention(principal, retention))


FACE = HttpFace(
    routes=[AccountsController],
    problems={ReauthenticationRequired: 403},
    dependencies={
        "registrations": lambda c: c.identity.registrations,
        "sessions": lambda c: c.identity.sessions,
        "profiles": lambda c: c.identity.profiles,
    },
)
