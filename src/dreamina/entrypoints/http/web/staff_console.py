"""The staff console (/admin): the privacy request queue for privacy officers and admins, soonest due first; one
request opened with a reason (audited), and its deadline extended with a reason.

Each handler calls the use case its JSON API twin calls (``/v1/admin/privacy/requests``); a signed-in account
without one of those roles gets 403 on every page but the sign-in form.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from dreamina.domain.data_rights.queue import PrivacyRequestQueue
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import CONSOLE_STAFF, STAFF
from dreamina.entrypoints.http.web.pages import page
from dreamina.entrypoints.http.web.privacy_center import FORM, SignInPages


class ReasonForm(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class StaffConsole(SignInPages):
    path = "/admin"
    landing = "/admin/queue"
    title = "Staff console"

    @get("/queue", guards=[CONSOLE_STAFF], dependencies=STAFF)
    async def queue(
        self, staff: NamedDependency[Principal], privacy_queue: NamedDependency[PrivacyRequestQueue]
    ) -> Template:
        """As ``GET /v1/admin/privacy/requests`` (audited as a staff access); the near-due and overdue flags are the
        deadline monitor's, the ones the API's ``flag`` filter reads."""
        return page("admin_queue.html", requests=await privacy_queue.queue(staff.account_id))

    @get("/requests/{request_id:uuid}", guards=[CONSOLE_STAFF], dependencies=STAFF)
    async def view(
        self,
        request_id: FromPath[UUID],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
        reason: Annotated[str | None, QueryParameter(min_length=1, max_length=2000)] = None,
    ) -> Template:
        """Without a reason: the form that asks for one. With it: as ``GET /v1/admin/privacy/requests/{id}``."""
        if reason is None:
            return page("admin_request.html", request_id=request_id, view=None)
        view = await privacy_queue.staff_view(staff.account_id, request_id, reason)
        return page("admin_request.html", request_id=request_id, view=view, reason=reason)

    @post("/requests/{request_id:uuid}/extend", guards=[CONSOLE_STAFF], dependencies=STAFF)
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
