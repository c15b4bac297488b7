"""Routes of abuse reports (policy section 3, preventing abuse): anyone reports a generation; support staff and
admins take it down or dismiss the report.

The public report answers 202 with the same body, after the same work, whether or not the generation exists (429
past the per-client or per-generation limit, whatever the target; 422 for a link that is not one of our download
links, which says nothing about any generation). Staff lists and views are audited in the use cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED
from msgspec import Meta

from dreamina.domain.generation.abuse_intake import MAX_DETAILS, MAX_URL, AbuseReportIntake, IncomingAbuseReport
from dreamina.domain.generation.abuse_review import MAX_REASON, AbuseReportReview, AbuseReportView
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.validation import MAX_EMAIL
from dreamina.entrypoints.http.auth import SECURED, STAFF, TRUST_AND_SAFETY
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.texts import query_text, stated_email, stated_text
from dreamina.ports.abuse_reports import AbuseReason, AbuseReport, AbuseReportStatus

RECEIVED = (
    "Thank you. If the content exists, our staff will review your report. If you gave an address, we will tell you "
    "the outcome there."
)


class AbuseReportBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: AbuseReason
    generation_id: UUID | None = None
    output_url: (
        Annotated[str, Meta(min_length=1, max_length=MAX_URL, description="one of our download links")] | None
    ) = None
    contact: (
        Annotated[str, Meta(min_length=3, max_length=MAX_EMAIL), stated_email("your address, for the outcome")] | None
    ) = None
    details: Annotated[str, Meta(max_length=MAX_DETAILS * 4), stated_text(MAX_DETAILS, multiline=True)] | None = None


class AbuseReportReceived(msgspec.Struct):
    status: Literal["received"]
    message: str


class AbuseReportSummary(msgspec.Struct):
    id: UUID
    generation_id: UUID
    owner_id: UUID
    reason: AbuseReason
    status: AbuseReportStatus
    via_link: bool  # reported through a download link
    reporter_signed_in: bool
    received_at: datetime
    closed_at: datetime | None


class AbuseReportList(msgspec.Struct):
    reports: list[AbuseReportSummary]


class AbuseReportDetail(msgspec.Struct):
    report: AbuseReportSummary
    generation_exists: bool  # false once taken down or deleted by its owner
    contact: str | None
    details: str | None


class AbuseReportDecision(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[
        str, Meta(min_length=1, max_length=MAX_REASON * 4), stated_text(MAX_REASON, min_length=1, multiline=True)
    ]


def _summary(r: AbuseReport) -> AbuseReportSummary:
    return AbuseReportSummary(
        id=r.id,
        generation_id=r.generation_id,
        owner_id=r.owner_id,
        reason=r.reason,
        status=r.status,
        via_link=r.via_link,
        reporter_signed_in=r.reporter_id is not None,
        received_at=r.received_at,
        closed_at=r.closed_at,
    )


def _detail(view: AbuseReportView) -> AbuseReportDetail:
    return AbuseReportDetail(_summary(view.report), view.generation_exists, view.contact, view.details)


@post(
    "/v1/abuse-reports",
    tags=["trust-and-safety"],
    status_code=HTTP_202_ACCEPTED,
    summary="Report a generation that breaks our rules (no sign-in needed)",
    opt={RATE_LIMIT_OPT: SENSITIVE},
    responses=problem_responses(400, 401, 413, 422, 429),
)
async def report_abuse(
    request: Request[Any, Any, Any],
    data: JSONBody[AbuseReportBody],
    subject: NamedDependency[UUID | None],
    abuse_report_intake: NamedDependency[AbuseReportIntake],
) -> AbuseReportReceived:
    """Give the generation's id or one of our download links for it (exactly one), a reason and optionally your
    address and details. The answer is the same whether or not the generation exists; staff review the report.
    422 for a link that is not one of our download links; 429 past the limits per client and per generation."""
    client = f"subject:{subject}" if subject is not None else f"address:{request.client.host if request.client else ''}"
    await abuse_report_intake.report(
        IncomingAbuseReport(
            reason=data.reason.value,
            client=client,
            generation_id=data.generation_id,
            output_url=data.output_url,
            contact=data.contact,
            details=data.details,
            reporter_id=subject,
        )
    )
    return AbuseReportReceived(status="received", message=RECEIVED)


class AbuseReportQueueController(Controller):
    path = "/v1/admin/abuse-reports"
    tags = ["admin", "trust-and-safety"]
    security = SECURED
    dependencies = STAFF

    @get("/", guards=[TRUST_AND_SAFETY], summary="Open abuse reports, oldest first")
    async def queue(
        self, staff: NamedDependency[Principal], abuse_report_review: NamedDependency[AbuseReportReview]
    ) -> AbuseReportList:
        return AbuseReportList(reports=[_summary(r) for r in await abuse_report_review.queue(staff.account_id)])

    @get(
        "/{report_id:uuid}",
        guards=[TRUST_AND_SAFETY],
        summary="One abuse report with the reporter's contact and details (audited)",
        responses=problem_responses(404, 422),
    )
    async def view(
        self,
        report_id: FromPath[UUID],
        reason: Annotated[
            str,
            QueryParameter(
                min_length=1, max_length=500, schema_extra=query_text(MAX_REASON, min_length=1, multiline=True)
            ),
        ],
        staff: NamedDependency[Principal],
        abuse_report_review: NamedDependency[AbuseReportReview],
    ) -> AbuseReportDetail:
        return _detail(await abuse_report_review.view(staff.account_id, report_id, reason))

    @post(
        "/{report_id:uuid}/takedown",
        status_code=200,
        guards=[TRUST_AND_SAFETY],
        summary="Take down: the generation is deleted as by its owner; the owner and the reporter are told",
        responses=problem_responses(404, 409, 422),
    )
    async def take_down(
        self,
        report_id: FromPath[UUID],
        data: JSONBody[AbuseReportDecision],
        staff: NamedDependency[Principal],
        abuse_report_review: NamedDependency[AbuseReportReview],
    ) -> AbuseReportSummary:
        return _summary(await abuse_report_review.take_down(staff.account_id, report_id, data.reason))

    @post(
        "/{report_id:uuid}/dismiss",
        status_code=200,
        guards=[TRUST_AND_SAFETY],
        summary="Dismiss: nothing to remove; the reporter is told it was reviewed",
        responses=problem_responses(404, 409, 422),
    )
    async def dismiss(
        self,
        report_id: FromPath[UUID],
        data: JSONBody[AbuseReportDecision],
        staff: NamedDependency[Principal],
        abuse_report_review: NamedDependency[AbuseReportReview],
    ) -> AbuseReportSummary:
        return _summary(await abuse_report_review.dismiss(staff.account_id, report_id, data.reason))


FACE = HttpFace(
    routes=[report_abuse, AbuseReportQueueController],
    dependencies={
        "abuse_report_intake": lambda c: c.abuse.intake,
        "abuse_report_review": lambda c: c.abuse.review,
    },
)
