"""Routes of the children's flow (policy section 9, G8): anyone reports an account; its holder answers the age
review; staff review the reports.

The public report answers 202 with the same body, after the same work, whether or not the account exists (429 past
the per-reporter or per-target limit, whatever the target). Staff lists and views are audited in the use cases;
support staff may read the queue, only privacy officers and admins decide, reports about staff only admins.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED
from msgspec import Meta

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.child_report_intake import MAX_DETAILS, ChildReportIntake, IncomingReport
from dreamina.domain.identity.child_report_review import MAX_REASON as REVIEW_REASON
from dreamina.domain.identity.child_report_review import ChildReportReview, ReportView
from dreamina.domain.identity.child_report_statement import MAX_STATEMENT, AgeReviewStatements
from dreamina.domain.privacy.validation import MAX_EMAIL
from dreamina.entrypoints.http.auth import AUTH, DECIDERS, EVERY_STAFF_ROLE, SECURED, STAFF
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.schemas import Email
from dreamina.entrypoints.http.texts import query_text, stated_email, stated_text
from dreamina.ports.child_reports import ChildReport, ReportSource, ReportStatus

RECEIVED = (
    "Thank you. If the account exists, it is placed under review and our staff will look at your report. "
    "We will tell you the outcome at the address you gave."
)


class Relationship(enum.StrEnum):
    """How the reporter knows the child (a named enum, so generated clients get one readable type)."""

    PARENT = "parent"
    GUARDIAN = "guardian"
    OTHER = "other"


class ChildReportBody(msgspec.Struct, forbid_unknown_fields=True):
    contact: Annotated[
        str, Meta(min_length=3, max_length=MAX_EMAIL), stated_email("your email address, for the outcome")
    ]
    email: Email | None = None
    account_id: UUID | None = None
    details: Annotated[str, Meta(max_length=MAX_DETAILS * 4), stated_text(MAX_DETAILS, multiline=True)] | None = None
    relationship: Relationship | None = None


class ChildReportReceived(msgspec.Struct):
    status: Literal["received"]
    message: str


class ChildReportSummary(msgspec.Struct):
    id: UUID
    subject_id: UUID
    source: ReportSource
    status: ReportStatus
    received_at: datetime
    reports_received: int
    suspended_account: bool  # this report put the account under age review
    closed_at: datetime | None
    erasure_request_id: UUID | None
    escalated: bool = False  # about a staff member's account: nothing changed automatically; admins decide
    statement_at: datetime | None = None  # when the holder answered the review (read it in the report's view)


class ChildReportList(msgspec.Struct):
    reports: list[ChildReportSummary]


class ReporterBody(msgspec.Struct):
    contact: str
    relationship: Relationship | None
    received_at: datetime


class ChildReportDetail(msgspec.Struct):
    report: ChildReportSummary
    reporters: list[ReporterBody]
    details: list[str]
    statement: str | None = None  # the holder's answer to the review


class AgeReviewStatementBody(msgspec.Struct, forbid_unknown_fields=True):
    statement: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=MAX_STATEMENT * 4,
        ),
        stated_text(
            MAX_STATEMENT, min_length=1, multiline=True, description="your answer, read by the staff who decide"
        ),
    ]


class AgeReviewStatementReceived(msgspec.Struct):
    status: Literal["received"]
    received_at: datetime


class ChildReportDecision(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[
        str, Meta(min_length=1, max_length=REVIEW_REASON * 4), stated_text(REVIEW_REASON, min_length=1, multiline=True)
    ]


def _summary(r: ChildReport) -> ChildReportSummary:
    return ChildReportSummary(
        id=r.id,
        subject_id=r.subject_id,
        source=r.source,
        status=r.status,
        received_at=r.received_at,
        reports_received=r.reports_received,
        suspended_account=r.suspended_account,
        closed_at=r.closed_at,
        erasure_request_id=r.erasure_request_id,
        escalated=r.escalated,
        statement_at=r.statement_at,
    )


def _relationship(value: str | None) -> Relationship | None:
    return Relationship(value) if value is not None and value in Relationship._value2member_map_ else None


def _detail(view: ReportView) -> ChildReportDetail:
    return ChildReportDetail(
        report=_summary(view.report),
        reporters=[ReporterBody(r.contact, _relationship(r.relationship), r.received_at) for r in view.reporters],
        details=view.details,
        statement=view.statement,
    )


@post(
    "/v1/privacy/child-reports",
    tags=["privacy"],
    status_code=HTTP_202_ACCEPTED,
    summary="Report an account that belongs to a child (no sign-in needed)",
    opt={RATE_LIMIT_OPT: SENSITIVE},
    responses=problem_responses(400, 413, 422, 429),
)
async def report_child(
    data: JSONBody[ChildReportBody], child_report_intake: NamedDependency[ChildReportIntake]
) -> ChildReportReceived:
    """Give the account's email or its id (exactly one) and your email address. The answer is the same whether or
    not the account exists; if it does, it is placed under age review within seconds and staff review the report.
    429 past the limits per reporter and per reported account."""
    await child_report_intake.report(
        IncomingReport(
            contact=data.contact,
            email=data.email,
            account_id=data.account_id,
            details=data.details,
            relationship=None if data.relationship is None else data.relationship.value,
        )
    )
    return ChildReportReceived(status="received", message=RECEIVED)


@post(
    "/v1/me/age-review/statement",
    tags=["privacy", "children"],
    status_code=200,
    dependencies=AUTH,
    security=SECURED,
    summary="Answer the age review of your account: a statement the staff who decide read",
    responses=problem_responses(401, 409, 422),
)
async def answer_age_review(
    data: JSONBody[AgeReviewStatementBody],
    principal: NamedDependency[Principal],
    age_review_statements: NamedDependency[AgeReviewStatements],
) -> AgeReviewStatementReceived:
    """Stored sealed with your own key, shown to staff beside the report, in your export. A later statement
    replaces the earlier one. 409 ``no_age_review`` when no review of your account is open."""
    received = await age_review_statements.answer(principal.account_id, data.statement)
    return AgeReviewStatementReceived(status="received", received_at=received.received_at)


class ChildReportQueueController(Controller):
    path = "/v1/admin/child-reports"
    tags = ["admin", "children"]
    security = SECURED
    dependencies = STAFF

    @get("/", guards=[EVERY_STAFF_ROLE], summary="Open child reports, oldest first")
    async def queue(
        self, staff: NamedDependency[Principal], child_report_review: NamedDependency[ChildReportReview]
    ) -> ChildReportList:
        return ChildReportList(reports=[_summary(r) for r in await child_report_review.queue(staff.account_id)])

    @get(
        "/{report_id:uuid}",
        guards=[EVERY_STAFF_ROLE],
        summary="One child report with the reporters' contacts and details (audited)",
        responses=problem_responses(404, 422),
    )
    async def view(
        self,
        report_id: FromPath[UUID],
        reason: Annotated[
            str,
            QueryParameter(
                min_length=1, max_length=500, schema_extra=query_text(REVIEW_REASON, min_length=1, multiline=True)
            ),
        ],
        staff: NamedDependency[Principal],
        child_report_review: NamedDependency[ChildReportReview],
    ) -> ChildReportDetail:
        return _detail(await child_report_review.view(staff.account_id, report_id, reason))

    @post(
        "/{report_id:uuid}/confirm",
        status_code=200,
        guards=[DECIDERS],
        summary="Confirm: the account belongs to a child; its erasure starts at once",
        responses=problem_responses(404, 409, 422),
    )
    async def confirm(
        self,
        report_id: FromPath[UUID],
        data: JSONBody[ChildReportDecision],
        staff: NamedDependency[Principal],
        child_report_review: NamedDependency[ChildReportReview],
    ) -> ChildReportSummary:
        return _summary(await child_report_review.confirm(staff.account_id, report_id, data.reason))

    @post(
        "/{report_id:uuid}/dismiss",
        status_code=200,
        guards=[DECIDERS],
        summary="Dismiss: the report is unfounded; the age review is lifted (409 while the birth date is below)",
        responses=problem_responses(404, 409, 422),
    )
    async def dismiss(
        self,
        report_id: FromPath[UUID],
        data: JSONBody[ChildReportDecision],
        staff: NamedDependency[Principal],
        child_report_review: NamedDependency[ChildReportReview],
    ) -> ChildReportSummary:
        return _summary(await child_report_review.dismiss(staff.account_id, report_id, data.reason))


FACE = HttpFace(
    routes=[report_child, answer_age_review, ChildReportQueueController],
    dependencies={
        "child_report_intake": lambda c: c.children.intake,
        "age_review_statements": lambda c: c.children.statements,
        "child_report_review": lambda c: c.children.review,
    },
)
