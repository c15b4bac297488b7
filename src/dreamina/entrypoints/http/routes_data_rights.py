"""Routes of the data-rights module: the subject's privacy requests, access report and export download.

Staff (admin) routes over the same use cases come with the staff-roles module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from msgspec import Meta

from dreamina.bootstrap import Container
from dreamina.domain.data_rights.access import access_report
from dreamina.domain.data_rights.requests import RequestView
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.errors import NotFound
from dreamina.entrypoints.http.auth import provide_principal
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.ports.data_rights import PrivacyRequest

AUTH = {"principal": Provide(provide_principal)}
SECURED: list[dict[str, list[str]]] = [{"BearerToken": []}]

RequestType = Literal["access", "export", "rectification", "erasure", "objection", "restriction"]
Secret = Annotated[str, Meta(min_length=1, max_length=1024)]


class PrivacyRequestBody(msgspec.Struct, forbid_unknown_fields=True):
    type: RequestType
    details: dict[str, Any] | None = None
    password: Secret | None = None


class VerifyBody(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    password: Secret | None = None


class CancelBody(msgspec.Struct, forbid_unknown_fields=True):
    confirm: Literal[True]


class RequestAccepted(msgspec.Struct):
    id: UUID
    status: str
    due_at: datetime


class RequestSummary(msgspec.Struct):
    id: UUID
    type: str
    status: str
    received_at: datetime
    due_at: datetime
    jurisdiction: str
    extended: bool
    scheduled_for: datetime | None


class RequestList(msgspec.Struct):
    requests: list[RequestSummary]


class HistoryEntry(msgspec.Struct):
    status: str
    actor_kind: str
    note: str | None
    occurred_at: datetime


class RequestDetail(msgspec.Struct):
    id: UUID
    type: str
    status: str
    received_at: datetime
    due_at: datetime
    jurisdiction: str
    extended: bool
    extension_reason: str | None
    clock_paused: bool
    scheduled_for: datetime | None
    details: dict[str, Any]
    outcome: dict[str, Any]
    history: list[HistoryEntry]


def _summary(r: PrivacyRequest) -> RequestSummary:
    return RequestSummary(
        id=r.id,
        type=r.type,
        status=r.status,
        received_at=r.received_at,
        due_at=r.due_at,
        jurisdiction=r.jurisdiction,
        extended=r.extended_at is not None,
        scheduled_for=r.scheduled_for,
    )


def _detail(view: RequestView) -> RequestDetail:
    r = view.request
    return RequestDetail(
        id=r.id,
        type=r.type,
        status=r.status,
        received_at=r.received_at,
        due_at=r.due_at,
        jurisdiction=r.jurisdiction,
        extended=r.extended_at is not None,
        extension_reason=r.extension_reason,
        clock_paused=r.paused_since is not None,
        scheduled_for=r.scheduled_for,
        details=view.details,
        outcome=r.outcome,
        history=[HistoryEntry(e.status, e.actor_kind, e.note, e.occurred_at) for e in view.history],
    )


class PrivacyRequestsController(Controller):
    path = "/v1/privacy/requests"
    tags = ["data rights"]
    dependencies = AUTH
    security = SECURED

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        opt={RATE_LIMIT_OPT: SENSITIVE},
        summary="Make a privacy request: access, export, rectification, erasure, objection or restriction",
        responses=problem_responses(400, 401, 403, 404, 409, 410, 413, 422),
    )
    async def submit(
        self,
        data: JSONBody[PrivacyRequestBody],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> RequestAccepted:
        """Export and erasure need proof of identity: give ``password`` now, or a code is mailed (then ``verify``).
        An open request of the same type absorbs a duplicate (same id)."""
        request = await container.rights.requests.submit(
            principal.account_id, data.type, data.details, password=data.password
        )
        return RequestAccepted(id=request.id, status=request.status, due_at=request.due_at)

    @get("/", summary="Your privacy requests, newest first", responses=problem_responses(401))
    async def list_requests(
        self, principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> RequestList:
        found = await container.rights.requests.list_for_subject(principal.account_id)
        return RequestList(requests=[_summary(r) for r in found])

    @get(
        "/{request_id:uuid}",
        summary="One of your requests: status history, due date, what was done",
        responses=problem_responses(401, 404),
    )
    async def get_request(
        self, request_id: FromPath[UUID], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> RequestDetail:
        return _detail(await container.rights.requests.view(principal.account_id, request_id))

    @post(
        "/{request_id:uuid}/verify",
        status_code=200,
        opt={RATE_LIMIT_OPT: SENSITIVE},
        summary="Prove your identity for an export or erasure with the mailed code or your password",
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def verify(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[VerifyBody],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> RequestAccepted:
        request = await container.rights.requests.verify(
            principal.account_id, request_id, code=data.code, password=data.password
        )
        return RequestAccepted(id=request.id, status=request.status, due_at=request.due_at)

    @post(
        "/{request_id:uuid}/code",
        status_code=HTTP_204_NO_CONTENT,
        opt={RATE_LIMIT_OPT: SENSITIVE},
        summary="Mail a new one-time code for a request waiting for proof of identity",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def send_code(
        self, request_id: FromPath[UUID], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> None:
        await container.rights.requests.send_code(principal.account_id, request_id)

    @post(
        "/{request_id:uuid}/cancel",
        status_code=200,
        summary="Cancel a request: an erasure during its 30-day grace period, or one not yet verified",
        responses=problem_responses(400, 401, 404, 409, 413),
    )
    async def cancel(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[CancelBody],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> RequestAccepted:
        request = await container.rights.requests.cancel(principal.account_id, request_id)
        return RequestAccepted(id=request.id, status=request.status, due_at=request.due_at)

    @get(
        "/{request_id:uuid}/report",
        summary="The access report of a completed access request (GDPR Art. 15 items)",
        responses=problem_responses(401, 404),
    )
    async def report(
        self, request_id: FromPath[UUID], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> dict[str, Any]:
        view = await container.rights.requests.view(principal.account_id, request_id)
        if view.request.type != "access" or view.request.status != "completed":
            raise NotFound("no access report for this request")
        return await access_report(
            principal.account_id,
            uow=container.uow,
            holders=container.rights.holders,
            data_map=container.data_map,
            jurisdictions=container.jurisdictions,
        )

    @get(
        "/{request_id:uuid}/download",
        summary="Download your export archive (only you, for 7 days)",
        media_type="application/zip",
        responses=problem_responses(401, 404, 410),
    )
    async def download(
        self, request_id: FromPath[UUID], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> Response[Any]:
        key = await container.rights.requests.archive_for(principal.account_id, request_id)
        chunks = await container.object_store.stream(key)

        async def body() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                yield chunk

        return Stream(
            body(),
            media_type="application/zip",
            headers={
                "Content-Disposition": 'attachment; filename="dreamina-export.zip"',
                "Cache-Control": "no-store",
            },
        )
