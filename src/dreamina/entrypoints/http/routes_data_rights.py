"""Routes of the data-rights module: the subject's privacy requests, access report and export download.

The staff (admin) routes over the same requests are in :mod:`routes_privacy_admin`; both are this module's face.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from dreamina.domain.data_rights.access import AccessReports
from dreamina.domain.data_rights.downloads import ExportDownloads
from dreamina.domain.data_rights.errors import ExportExpired, ExtensionNotAllowed, IdentityProofFailed, RequestNotOpen
from dreamina.domain.data_rights.requests import PrivacyRequests
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import AUTH, SECURED
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.routes_privacy_admin import PrivacyQueueController, ProcessorNotificationsController
from dreamina.entrypoints.http.schemas_access_report import AccessReport, access_report_out
from dreamina.entrypoints.http.schemas_data_rights import (
    CancelBody,
    PrivacyRequestBody,
    RequestAccepted,
    RequestDetail,
    RequestList,
    VerifyBody,
    detail,
    request_details,
    request_type,
    summary,
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
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> RequestAccepted:
        """Export and erasure need proof of identity: give ``password`` now, or a code is mailed (then ``verify``).
        An open request of the same type absorbs a duplicate (same id)."""
        request = await privacy_requests.submit(
            principal.account_id, request_type(data), request_details(data), password=data.password
        )
        return RequestAccepted(id=request.id, status=request.status, due_at=request.due_at)

    @get("/", summary="Your privacy requests, newest first", responses=problem_responses(401))
    async def list_requests(
        self, principal: NamedDependency[Principal], privacy_requests: NamedDependency[PrivacyRequests]
    ) -> RequestList:
        found = await privacy_requests.list_for_subject(principal.account_id)
        return RequestList(requests=[summary(r) for r in found])

    @get(
        "/{request_id:uuid}",
        summary="One of your requests: status history, due date, what was done",
        responses=problem_responses(401, 404),
    )
    async def get_request(
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> RequestDetail:
        return detail(await privacy_requests.view(principal.account_id, request_id))

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
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> RequestAccepted:
        request = await privacy_requests.verify(
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
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> None:
        await privacy_requests.send_code(principal.account_id, request_id)

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
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> RequestAccepted:
        request = await privacy_requests.cancel(principal.account_id, request_id)
        return RequestAccepted(id=request.id, status=request.status, due_at=request.due_at)

    @get(
        "/{request_id:uuid}/report",
        summary="The access report of a completed access request (GDPR Art. 15 items)",
        responses=problem_responses(401, 404),
    )
    async def report(
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        access_reports: NamedDependency[AccessReports],
    ) -> AccessReport:
        return access_report_out(await access_reports.for_request(principal.account_id, request_id))

    @get(
        "/{request_id:uuid}/download",
        summary="Download your export archive (only you, for 7 days)",
        media_type="application/zip",
        responses=problem_responses(401, 404, 410),
    )
    async def download(
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        export_downloads: NamedDependency[ExportDownloads],
    ) -> Response[Any]:
        return export_archive(await export_downloads.open(principal.account_id, request_id))


def export_archive(chunks: AsyncIterable[bytes]) -> Stream:
    """The export archive as a download (the API's route and the privacy center's page alike)."""

    async def body() -> AsyncIterator[bytes]:
        async for chunk in chunks:
            yield chunk

    return Stream(
        body(),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="dreamina-export.zip"', "Cache-Control": "no-store"},
    )


FACE = HttpFace(
    routes=[PrivacyRequestsController, PrivacyQueueController, ProcessorNotificationsController],
    problems={
        IdentityProofFailed: 403,
        RequestNotOpen: 409,
        ExtensionNotAllowed: 409,
        ExportExpired: 410,
    },
    dependencies={
        "privacy_requests": lambda c: c.data_rights.requests,
        "privacy_queue": lambda c: c.data_rights.queue,
        "processor_notices": lambda c: c.data_rights.processor_notices,
        "access_reports": lambda c: c.data_rights.access_reports,
        "export_downloads": lambda c: c.data_rights.downloads,
    },
)
