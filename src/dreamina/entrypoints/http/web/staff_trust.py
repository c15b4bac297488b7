"""The staff console's trust-and-safety queues, for support staff and admins: abuse reports (/admin/abuse-reports:
open one with a reason, then take the generation down or dismiss the report) and moderation reviews
(/admin/moderation: accounts paused by repeated refusals, lifted or suspended with a reason).

Each handler calls the use case its JSON API twin calls (routes_abuse.py ``AbuseReportQueueController``,
routes_moderation.py ``ModerationReviewQueueController``) behind the same roles (``CONSOLE_TRUST_AND_SAFETY``, twin
of the API's ``TRUST_AND_SAFETY``).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from dreamina.domain.generation.abuse_review import MAX_REASON as ABUSE_REASON
from dreamina.domain.generation.abuse_review import AbuseReportReview
from dreamina.domain.generation.moderation_review import MAX_REASON as MODERATION_REASON
from dreamina.domain.generation.moderation_review import ModerationReviews
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import CONSOLE_TRUST_AND_SAFETY, STAFF
from dreamina.entrypoints.http.web.pages import page
from dreamina.entrypoints.http.web.privacy_center import FORM
from dreamina.ports.abuse_reports import AbuseReportStatus


class AbuseDecisionForm(msgspec.Struct):
    """As the API's ``AbuseReportDecision`` (gross bound here; the use case applies the real one)."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=ABUSE_REASON * 4)]


class ModerationDecisionForm(msgspec.Struct):
    """As the API's ``ModerationDecision``."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=MODERATION_REASON * 4)]


class StaffTrustAndSafety(Controller):
    path = "/admin"
    dependencies = STAFF
    guards = [CONSOLE_TRUST_AND_SAFETY]

    @get("/abuse-reports")
    async def abuse_reports(
        self, staff: NamedDependency[Principal], abuse_report_review: NamedDependency[AbuseReportReview]
    ) -> Template:
        """As ``GET /v1/admin/abuse-reports`` (every report listed is audited as a staff view)."""
        return page("admin_abuse_reports.html", reports=await abuse_report_review.queue(staff.account_id))

    @get("/abuse-reports/{report_id:uuid}")
    async def abuse_report(
        self,
        report_id: FromPath[UUID],
        staff: NamedDependency[Principal],
        abuse_report_review: NamedDependency[AbuseReportReview],
        reason: Annotated[str | None, QueryParameter(min_length=1, max_length=ABUSE_REASON)] = None,
    ) -> Template:
        """Without a reason: the form that asks for one. With it: as ``GET /v1/admin/abuse-reports/{id}`` (the
        reporter's contact and details; the view and its reason audited)."""
        if reason is None:
            return page("admin_abuse_report.html", report_id=report_id, view=None)
        view = await abuse_report_review.view(staff.account_id, report_id, reason)
        decide = view.report.status == AbuseReportStatus.OPEN
        return page("admin_abuse_report.html", report_id=report_id, view=view, decide=decide)

    @post("/abuse-reports/{report_id:uuid}/takedown")
    async def take_down(
        self,
        report_id: FromPath[UUID],
        data: Annotated[AbuseDecisionForm, FORM],
        staff: NamedDependency[Principal],
        abuse_report_review: NamedDependency[AbuseReportReview],
    ) -> Redirect:
        """As ``POST /v1/admin/abuse-reports/{id}/takedown``: the generation is deleted as by its owner; the owner
        and the reporter are told."""
        await abuse_report_review.take_down(staff.account_id, report_id, data.reason)
        return Redirect(path="/admin/abuse-reports", status_code=303)

    @post("/abuse-reports/{report_id:uuid}/dismiss")
    async def dismiss_abuse_report(
        self,
        report_id: FromPath[UUID],
        data: Annotated[AbuseDecisionForm, FORM],
        staff: NamedDependency[Principal],
        abuse_report_review: NamedDependency[AbuseReportReview],
    ) -> Redirect:
        """As ``POST /v1/admin/abuse-reports/{id}/dismiss``: nothing to remove; the reporter is told."""
        await abuse_report_review.dismiss(staff.account_id, report_id, data.reason)
        return Redirect(path="/admin/abuse-reports", status_code=303)

    @get("/moderation")
    async def moderation_reviews(
        self, staff: NamedDependency[Principal], moderation_reviews: NamedDependency[ModerationReviews]
    ) -> Template:
        """As ``GET /v1/admin/moderation/reviews`` (its default page size)."""
        return page("admin_moderation.html", reviews=await moderation_reviews.queue(staff.account_id))

    @post("/moderation/{review_id:uuid}/lift")
    async def lift(
        self,
        review_id: FromPath[UUID],
        data: Annotated[ModerationDecisionForm, FORM],
        staff: NamedDependency[Principal],
        moderation_reviews: NamedDependency[ModerationReviews],
    ) -> Redirect:
        """As ``POST /v1/admin/moderation/reviews/{id}/lift``: generation and uploads work again (audited)."""
        await moderation_reviews.lift(staff.account_id, review_id, data.reason)
        return Redirect(path="/admin/moderation", status_code=303)

    @post("/moderation/{review_id:uuid}/suspend")
    async def suspend(
        self,
        review_id: FromPath[UUID],
        data: Annotated[ModerationDecisionForm, FORM],
        staff: NamedDependency[Principal],
        moderation_reviews: NamedDependency[ModerationReviews],
    ) -> Redirect:
        """As ``POST /v1/admin/moderation/reviews/{id}/suspend``: sign-in refused, unfinished generations stopped
        (audited)."""
        await moderation_reviews.suspend(staff.account_id, review_id, data.reason)
        return Redirect(path="/admin/moderation", status_code=303)
