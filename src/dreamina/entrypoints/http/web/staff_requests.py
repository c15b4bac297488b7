"""The staff console's privacy request queue (/admin/queue, /admin/requests/{id}): soonest due first, filtered by
the API's flag and type filters; one request opened with a reason (audited); the decisions the API offers.

Each handler calls the use case its JSON API twin calls (``/v1/admin/privacy/requests``, routes_privacy_admin.py)
behind the same roles: every staff role reads (``CONSOLE_READERS``), privacy officers and admins decide
(``CONSOLE_DECIDERS``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from dreamina.domain.data_rights.queue import PrivacyRequestQueue
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import CONSOLE_DECIDERS, CONSOLE_READERS, DECIDER_ROLES, STAFF
from dreamina.entrypoints.http.web.pages import page
from dreamina.entrypoints.http.web.privacy_center import FORM
from dreamina.entrypoints.http.web.staff_console import ReasonForm, ReasonQuery
from dreamina.ports.data_rights import RequestStatus, RequestType

Flag = Literal["", "near_due", "overdue"]
TypeFilter = Literal["", "access", "export", "rectification", "erasure", "objection", "restriction"]


def may_decide(request: Request[Any, Any, Any]) -> bool:
    """Whether the signed-in staff member holds a role the API's ``DECIDERS`` guard lets through (shows the
    decision forms; the decision routes check it again with their own guard)."""
    return getattr(request.state, "staff_role", None) in DECIDER_ROLES


class StaffRequests(Controller):
    path = "/admin"
    dependencies = STAFF

    @get("/queue", guards=[CONSOLE_READERS])
    async def queue(
        self,
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
        flag: Annotated[Flag, QueryParameter()] = "",
        type: Annotated[TypeFilter, QueryParameter()] = "",
    ) -> Template:
        """As ``GET /v1/admin/privacy/requests`` with its ``flag`` and ``type`` filters (audited as a staff access);
        the near-due and overdue flags are the deadline monitor's."""
        found = await privacy_queue.queue(staff.account_id, flag=flag or None, type=type or None)
        return page("admin_queue.html", requests=found, flag=flag, type=type, types=[t.value for t in RequestType])

    @get("/requests/{request_id:uuid}", guards=[CONSOLE_READERS])
    async def view(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[UUID],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
        reason: ReasonQuery = None,
    ) -> Template:
        """Without a reason: the form that asks for one. With it: as ``GET /v1/admin/privacy/requests/{id}``
        (the view and its reason audited), with the decision forms for the roles that may decide."""
        if reason is None:
            return page("admin_request.html", request_id=request_id, view=None)
        view = await privacy_queue.staff_view(staff.account_id, request_id, reason)
        status = RequestStatus(view.request.status)
        return page(
            "admin_request.html",
            request_id=request_id,
            view=view,
            reason=reason,
            decide=may_decide(request) and not status.terminal,
            in_review=status == RequestStatus.IN_REVIEW,
            scheduled=status == RequestStatus.SCHEDULED,
        )

    @post("/requests/{request_id:uuid}/approve", guards=[CONSOLE_DECIDERS])
    async def approve(
        self,
        request_id: FromPath[UUID],
        data: Annotated[ReasonForm, FORM],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> Redirect:
        """As ``POST /v1/admin/privacy/requests/{id}/approve``: a request under review is completed."""
        await privacy_queue.approve(staff.account_id, request_id, data.reason)
        return Redirect(path="/admin/queue", status_code=303)

    @post("/requests/{request_id:uuid}/reject", guards=[CONSOLE_DECIDERS])
    async def reject(
        self,
        request_id: FromPath[UUID],
        data: Annotated[ReasonForm, FORM],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> Redirect:
        """As ``POST /v1/admin/privacy/requests/{id}/reject``: the reason is required and the subject is told."""
        await privacy_queue.reject(staff.account_id, request_id, data.reason)
        return Redirect(path="/admin/queue", status_code=303)

    @post("/requests/{request_id:uuid}/extend", guards=[CONSOLE_DECIDERS])
    async def extend(
        self,
        request_id: FromPath[UUID],
        data: Annotated[ReasonForm, FORM],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> Redirect:
        """As ``POST /v1/admin/privacy/requests/{id}/extend``: the subject is told why."""
        await privacy_queue.extend(staff.account_id, request_id, data.reason)
        return Redirect(path="/admin/queue", status_code=303)

    @post("/requests/{request_id:uuid}/expedite", guards=[CONSOLE_DECIDERS])
    async def expedite(
        self,
        request_id: FromPath[UUID],
        data: Annotated[ReasonForm, FORM],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> Redirect:
        """As ``POST /v1/admin/privacy/requests/{id}/expedite``: a scheduled erasure runs now (the subject is told
        why)."""
        await privacy_queue.expedite_erasure(staff.account_id, request_id, data.reason)
        return Redirect(path="/admin/queue", status_code=303)
