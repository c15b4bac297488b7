"""The staff console's child reports (/admin/child-reports, policy section 9): the open reports, oldest first; one
report opened with a reason (audited); confirm (the account is erased at once) or dismiss (the age review is lifted).

Each handler calls the use case its JSON API twin calls (``/v1/admin/child-reports``, routes_children.py
``ChildReportQueueController``) behind the same roles: every staff role reads (``CONSOLE_READERS``), privacy
officers and admins decide (``CONSOLE_DECIDERS``); reports about staff accounts only admins see (the use case).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.child_report_review import MAX_REASON, ChildReportReview
from dreamina.entrypoints.http.auth import CONSOLE_DECIDERS, CONSOLE_READERS, STAFF
from dreamina.entrypoints.http.web.pages import page
from dreamina.entrypoints.http.web.privacy_center import FORM
from dreamina.entrypoints.http.web.staff_requests import may_decide
from dreamina.ports.child_reports import ReportStatus


class DecisionForm(msgspec.Struct):
    """As the API's ``ChildReportDecision`` (gross bound here; the use case applies the real one)."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REASON * 4)]


class StaffChildReports(Controller):
    path = "/admin"
    dependencies = STAFF

    @get("/child-reports", guards=[CONSOLE_READERS])
    async def reports(
        self, staff: NamedDependency[Principal], child_report_review: NamedDependency[ChildReportReview]
    ) -> Template:
        """As ``GET /v1/admin/child-reports`` (every report listed is audited as a staff view)."""
        return page("admin_child_reports.html", reports=await child_report_review.queue(staff.account_id))

    @get("/child-reports/{report_id:uuid}", guards=[CONSOLE_READERS])
    async def view(
        self,
        request: Request[Any, Any, Any],
        report_id: FromPath[UUID],
        staff: NamedDependency[Principal],
        child_report_review: NamedDependency[ChildReportReview],
        reason: Annotated[str | None, QueryParameter(min_length=1, max_length=MAX_REASON)] = None,
    ) -> Template:
        """Without a reason: the form that asks for one. With it: as ``GET /v1/admin/child-reports/{id}`` (the
        reporters' contacts and details, the holder's statement; the view and its reason audited)."""
        if reason is None:
            return page("admin_child_report.html", report_id=report_id, view=None)
        view = await child_report_review.view(staff.account_id, report_id, reason)
        decide = may_decide(request) and view.report.status == ReportStatus.OPEN
        return page("admin_child_report.html", report_id=report_id, view=view, decide=decide)

    @post("/child-reports/{report_id:uuid}/confirm", guards=[CONSOLE_DECIDERS])
    async def confirm(
        self,
        report_id: FromPath[UUID],
        data: Annotated[DecisionForm, FORM],
        staff: NamedDependency[Principal],
        child_report_review: NamedDependency[ChildReportReview],
    ) -> Redirect:
        """As ``POST /v1/admin/child-reports/{id}/confirm``: the account belongs to a child; its erasure starts."""
        await child_report_review.confirm(staff.account_id, report_id, data.reason)
        return Redirect(path="/admin/child-reports", status_code=303)

    @post("/child-reports/{report_id:uuid}/dismiss", guards=[CONSOLE_DECIDERS])
    async def dismiss(
        self,
        report_id: FromPath[UUID],
        data: Annotated[DecisionForm, FORM],
        staff: NamedDependency[Principal],
        child_report_review: NamedDependency[ChildReportReview],
    ) -> Redirect:
        """As ``POST /v1/admin/child-reports/{id}/dismiss``: the age review is lifted (409 while the stored birth
        date is below the minimum age)."""
        await child_report_review.dismiss(staff.account_id, report_id, data.reason)
        return Redirect(path="/admin/child-reports", status_code=303)
