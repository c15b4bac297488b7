"""Routes of the public API, grouped by the module they serve. Handlers translate; use cases decide."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler

from dreamina.bootstrap import Container
from dreamina.domain.identity.accounts import Principal, Profile, SignUp, check_content_retention
from dreamina.domain.privacy.policy import PolicyVersion, last_updated_label
from dreamina.domain.privacy.schedule import schedule_as_dicts
from dreamina.entrypoints.http.auth import provide_principal
from dreamina.entrypoints.http.device import device_id
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.routes_consent import CONSENT_ROUTES
from dreamina.entrypoints.http.schemas import (
    AccountCreated,
    Health,
    PolicyBody,
    PolicyVersionList,
    PolicyVersionSummary,
    ProcessorBody,
    ProcessorList,
    ProfileBody,
    ProfilePatch,
    RetentionScheduleEntryBody,
    SectionBody,
    SignUpBody,
    TokenRequest,
    TokenResponse,
)

AUTH = {"principal": Provide(provide_principal)}
SECURED: list[dict[str, list[str]]] = [{"BearerToken": []}]


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
    async def sign_up(self, data: JSONBody[SignUpBody], container: NamedDependency[Container]) -> AccountCreated:
        """Sign up. Below the minimum age of the jurisdiction: 403 ``age_requirement_not_met`` and nothing is
        stored. A taken email gets the same answer; its owner is told by mail."""
        account_id = await container.accounts.sign_up(
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
        summary="Sign in: exchange email and password for a bearer token",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 401, 413, 429),
    )
    async def token(
        self, data: JSONBody[TokenRequest], request: Request[Any, Any, Any], container: NamedDependency[Container]
    ) -> TokenResponse:
        issued = await container.accounts.issue_token(data.email, data.password)
        device = device_id(request, mint=False)
        if device is not None:  # the device's consent choices carry over to the account
            principal = await container.accounts.authenticate(issued.access_token)
            await container.consent.adopt_device_choices(principal.account_id, device)
        return TokenResponse(access_token=issued.access_token, expires_at=issued.expires_at)

    @post(
        "/auth/logout",
        status_code=HTTP_204_NO_CONTENT,
        dependencies=AUTH,
        security=SECURED,
        summary="Revoke the current token",
        responses=problem_responses(401),
    )
    async def logout(self, principal: NamedDependency[Principal], container: NamedDependency[Container]) -> None:
        await container.accounts.sign_out(principal)

    @get(
        "/me",
        dependencies=AUTH,
        security=SECURED,
        summary="The signed-in subject's account",
        responses=problem_responses(401, 404, 410),
    )
    async def me(self, principal: NamedDependency[Principal], container: NamedDependency[Container]) -> ProfileBody:
        return _profile(await container.accounts.profile(principal.account_id))

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
        container: NamedDependency[Container],
    ) -> ProfileBody:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        retention = changes.pop("content_retention_days", msgspec.UNSET)
        if retention is msgspec.UNSET:
            return _profile(await container.accounts.update_profile(principal, changes))
        check_content_retention(retention)  # refused before anything is written
        if changes:
            await container.accounts.update_profile(principal, changes)
        return _profile(await container.accounts.set_content_retention(principal, retention))


def _summary(p: PolicyVersion, current: int | None) -> PolicyVersionSummary:
    return PolicyVersionSummary(
        version=p.version,
        content_sha256=p.content_sha256,
        last_updated=p.last_updated,
        effective_at=p.effective_at,
        published_at=p.published_at,
        in_effect=current is not None and p.version <= current,
    )


class PrivacyController(Controller):
    path = "/v1/privacy"
    tags = ["privacy"]

    @get(
        "/policy",
        summary="The privacy policy in effect, with its data map and retention schedule",
        responses=problem_responses(404),
    )
    async def policy(self, container: NamedDependency[Container]) -> PolicyBody:
        p = await container.policies.current()
        return PolicyBody(
            version=p.version,
            content_sha256=p.content_sha256,
            last_updated=p.last_updated,
            last_updated_label=last_updated_label(p.text),
            effective_at=p.effective_at,
            published_at=p.published_at,
            sections=[SectionBody(number=s.number, title=s.title, body=s.body) for s in p.sections],
            text=p.text,
            data_map=container.data_map.as_dict(),
            retention_schedule=msgspec.convert(
                schedule_as_dicts(container.data_map.schedule), list[RetentionScheduleEntryBody]
            ),
        )

    @get("/policy/versions", summary="Every published version of the privacy policy")
    async def versions(self, container: NamedDependency[Container]) -> PolicyVersionList:
        versions = await container.policies.versions()
        now = container.clock.now()
        in_effect = [v.version for v in versions if v.in_effect(now)]
        current = max(in_effect, default=None)
        return PolicyVersionList(current_version=current, versions=[_summary(v, current) for v in versions])

    @get("/processors", summary="The public record of processors, generated from the data map")
    async def processors(self, container: NamedDependency[Container]) -> ProcessorList:
        return ProcessorList(
            processors=[msgspec.convert(r, ProcessorBody) for r in container.data_map.processor_record()]
        )


@get(
    "/health",
    tags=["operations"],
    summary="Liveness and database check",
    responses={503: ResponseSpec(data_container=Health, description="the database does not answer")},
)
async def health(container: NamedDependency[Container]) -> Response[Health]:
    try:
        ok = await container.database_ping()
    except Exception:  # the check itself must never 500
        ok = False
    body = Health(status="ok" if ok else "degraded", database="ok" if ok else "unavailable")
    return Response(body, status_code=200 if ok else 503)


from dreamina.entrypoints.http.routes_data_rights import PrivacyRequestsController  # noqa: E402 - after AUTH

ROUTES: list[ControllerRouterHandler] = [
    AccountsController,
    PrivacyController,
    health,
    *CONSENT_ROUTES,
    PrivacyRequestsController,
]


def _add_routes_that_import_this_module() -> None:
    from dreamina.entrypoints.http.routes_billing import BILLING_ROUTES  # imports AUTH from here
    from dreamina.entrypoints.http.routes_children import ChildReportQueueController, report_child
    from dreamina.entrypoints.http.routes_privacy_admin import PrivacyQueueController

    ROUTES.extend(BILLING_ROUTES)
    ROUTES.append(PrivacyQueueController)
    ROUTES.extend([report_child, ChildReportQueueController])


_add_routes_that_import_this_module()
