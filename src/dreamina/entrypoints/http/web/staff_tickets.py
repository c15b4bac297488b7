"""The staff console's ticket queues (policy section 11): privacy tickets (/admin/privacy-tickets) for privacy
officers and admins, next to the request queue; the other tickets (/admin/support-tickets) for support staff and
admins. Each: the open tickets, soonest due first (filtered by status and deadline flag); one ticket opened with a
reason (audited); reply (mailed; closes it unless asked not to); close with a reason.

Each handler calls the use case its JSON API twin calls (routes_support.py ``StaffTicketQueue``:
``/v1/admin/privacy/tickets`` and ``/v1/admin/support/tickets``) behind the same roles (``CONSOLE_PRIVACY_DESK``,
``CONSOLE_SUPPORT_DESK``, twins of the API's ``PRIVACY_DESK`` and ``SUPPORT_DESK``).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.types import Guard

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.support.tickets import MAX_MESSAGE, SupportTickets
from dreamina.entrypoints.http.auth import CONSOLE_PRIVACY_DESK, CONSOLE_SUPPORT_DESK, STAFF
from dreamina.entrypoints.http.web.pages import page
from dreamina.entrypoints.http.web.privacy_center import FORM
from dreamina.entrypoints.http.web.staff_console import ReasonForm, ReasonQuery

StatusFilter = Literal["", "open", "answered"]
FlagFilter = Literal["", "near_due", "overdue"]


class ReplyForm(msgspec.Struct):
    """As the API's ``ReplyBody``; an unticked box is not sent, so the page's box starts ticked."""

    message: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE * 4)]
    close: bool = False


def _ticket_pages(queue: str, path: str, guard: Guard, title: str) -> type[Controller]:
    """The pages over one ticket queue; a ticket of the other queue is not found here (the use case)."""

    class StaffTicketPages(Controller):
        dependencies = STAFF

        @get("/", guards=[guard])
        async def tickets(
            self,
            staff: NamedDependency[Principal],
            tickets: NamedDependency[SupportTickets],
            status: Annotated[StatusFilter, QueryParameter()] = "",
            flag: Annotated[FlagFilter, QueryParameter()] = "",
        ) -> Template:
            """As ``GET /v1/admin/{queue}/tickets`` with its ``status`` and ``flag`` filters (each listing
            audited)."""
            found = await tickets.queue(staff.account_id, queue, status=status or None, flag=flag or None)
            return page("admin_tickets.html", tickets=found, base=path, title=title, status=status, flag=flag)

        @get("/{ticket_id:uuid}", guards=[guard])
        async def ticket(
            self,
            ticket_id: FromPath[UUID],
            staff: NamedDependency[Principal],
            tickets: NamedDependency[SupportTickets],
            reason: ReasonQuery = None,
        ) -> Template:
            """Without a reason: the form that asks for one. With it: as ``GET /v1/admin/{queue}/tickets/{id}``
            (the view and its reason audited)."""
            if reason is None:
                return page("admin_ticket.html", ticket_id=ticket_id, view=None, base=path, title=title)
            view = await tickets.staff_view(staff.account_id, queue, ticket_id, reason)
            return page("admin_ticket.html", ticket_id=ticket_id, view=view, base=path, title=title)

        @post("/{ticket_id:uuid}/reply", guards=[guard])
        async def reply(
            self,
            ticket_id: FromPath[UUID],
            data: Annotated[ReplyForm, FORM],
            staff: NamedDependency[Principal],
            tickets: NamedDependency[SupportTickets],
        ) -> Redirect:
            """As ``POST /v1/admin/{queue}/tickets/{id}/reply``: mailed to the ticket's reply-to address."""
            await tickets.reply(staff.account_id, queue, ticket_id, data.message, close=data.close)
            return Redirect(path=path, status_code=303)

        @post("/{ticket_id:uuid}/close", guards=[guard])
        async def close(
            self,
            ticket_id: FromPath[UUID],
            data: Annotated[ReasonForm, FORM],
            staff: NamedDependency[Principal],
            tickets: NamedDependency[SupportTickets],
        ) -> Redirect:
            """As ``POST /v1/admin/{queue}/tickets/{id}/close`` (the reason is audited)."""
            await tickets.close(staff.account_id, queue, ticket_id, data.reason)
            return Redirect(path=path, status_code=303)

    StaffTicketPages.path = path
    StaffTicketPages.__name__ = StaffTicketPages.__qualname__ = f"Staff{queue.capitalize()}TicketPages"
    return StaffTicketPages


PRIVACY_TICKET_PAGES = _ticket_pages("privacy", "/admin/privacy-tickets", CONSOLE_PRIVACY_DESK, "Privacy tickets")
SUPPORT_TICKET_PAGES = _ticket_pages("support", "/admin/support-tickets", CONSOLE_SUPPORT_DESK, "Support tickets")
