"""Routes of the support module (policy section 11, "contact us"): anyone writes a ticket; signed-in subjects read
their own; privacy officers answer privacy tickets next to the privacy-request queue, support staff the rest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED
from litestar.types import Guard
from msgspec import Meta

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.jurisdictions import DeadlineFlag
from dreamina.domain.privacy.validation import MAX_EMAIL
from dreamina.domain.support.address_requests import AddressRequests
from dreamina.domain.support.errors import TicketClosed
from dreamina.domain.support.tickets import (
    MAX_MESSAGE,
    MAX_REASON,
    MAX_SUBJECT_LINE,
    NewTicket,
    SupportTickets,
    TicketSummary,
    TicketView,
)
from dreamina.entrypoints.http.auth import AUTH, PRIVACY_DESK, SECURED, STAFF, SUPPORT_DESK
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.texts import query_text, stated_email, stated_text
from dreamina.ports.support import SupportTicket, TicketCategory, TicketStatus

OPTIONALLY_SECURED: list[dict[str, list[str]]] = [{}, {"BearerToken": []}]

# Gross bounds here (400); the use case applies the real ones with a field name (422).
SubjectLine = Annotated[str, Meta(max_length=MAX_SUBJECT_LINE * 4), stated_text(MAX_SUBJECT_LINE, min_length=3)]
MessageText = Annotated[str, Meta(max_length=MAX_MESSAGE * 4)]
NewMessage = Annotated[MessageText, stated_text(MAX_MESSAGE, min_length=10, multiline=True)]
ReplyText = Annotated[MessageText, stated_text(MAX_MESSAGE, min_length=1, multiline=True)]
Email = Annotated[str, Meta(max_length=1024), stated_email("where we answer; required without signing in")]
Reason = Annotated[
    str, Meta(min_length=1, max_length=2000), stated_text(MAX_REASON, min_length=3, description="why; audited")
]


class TicketBody(msgspec.Struct, forbid_unknown_fields=True):
    category: Literal["privacy", "billing", "other"]
    subject: SubjectLine
    message: NewMessage
    reply_to: Email | None = None


class TicketReceived(msgspec.Struct):
    id: UUID
    category: TicketCategory
    status: TicketStatus
    received_at: datetime
    due_at: datetime | None  # privacy tickets: the date by which the law says we answer


class TicketSummaryBody(msgspec.Struct):
    id: UUID
    category: TicketCategory
    status: TicketStatus
    subject: str
    received_at: datetime
    due_at: datetime | None
    flag: DeadlineFlag | None
    jurisdiction: str | None
    signed_in: bool
    answered_at: datetime | None
    closed_at: datetime | None


class TicketList(msgspec.Struct):
    tickets: list[TicketSummaryBody]


class AnswerBody(msgspec.Struct):
    message: str
    at: datetime


class TicketDetail(msgspec.Struct):
    id: UUID
    category: TicketCategory
    status: TicketStatus
    subject: str
    message: str
    reply_to: str | None
    received_at: datetime
    due_at: datetime | None
    flag: str | None
    jurisdiction: str | None
    answered_at: datetime | None
    closed_at: datetime | None
    answers: list[AnswerBody]


class ReplyBody(msgspec.Struct, forbid_unknown_fields=True):
    message: ReplyText
    close: bool = True


class CloseBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


def _summary(s: TicketSummary) -> TicketSummaryBody:
    t = s.ticket
    return TicketSummaryBody(
        id=t.id,
        category=t.category,
        status=t.status,
        subject=s.subject_line,
        received_at=t.received_at,
        due_at=t.due_at,
        flag=t.flag,
        jurisdiction=t.jurisdiction,
        signed_in=t.subject_id is not None,
        answered_at=t.answered_at,
        closed_at=t.closed_at,
    )


def _detail(v: TicketView) -> TicketDetail:
    t = v.ticket
    return TicketDetail(
        id=t.id,
        category=t.category,
        status=t.status,
        subject=v.subject_line,
        message=v.message,
        reply_to=v.reply_to,
        received_at=t.received_at,
        due_at=t.due_at,
        flag=t.flag,
        jurisdiction=t.jurisdiction,
        answered_at=t.answered_at,
        closed_at=t.closed_at,
        answers=[AnswerBody(message=r.text, at=r.at) for r in v.replies],
    )


def _received(t: SupportTicket) -> TicketReceived:
    return TicketReceived(id=t.id, category=t.category, status=t.status, received_at=t.received_at, due_at=t.due_at)


class SupportTicketsController(Controller):
    path = "/v1/support/tickets"
    tags = ["support"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        security=OPTIONALLY_SECURED,
        opt={RATE_LIMIT_OPT: SENSITIVE},
        summary="Write to support or the privacy contact (signed in or not)",
        responses=problem_responses(400, 401, 404, 413, 422, 429),
    )
    async def submit(
        self,
        data: JSONBody[TicketBody],
        subject: NamedDependency[UUID | None],
        tickets: NamedDependency[SupportTickets],
    ) -> TicketReceived:
        """With a bearer token the ticket is linked to you (and answered at your account email unless you give
        ``reply_to``); without one, ``reply_to`` is required. A privacy ticket is answered by ``due_at``, the legal
        deadline of your jurisdiction (anonymous: the GDPR default)."""
        ticket = await tickets.submit(subject, NewTicket(data.category, data.subject, data.message, data.reply_to))
        return _received(ticket)

    @get(
        "/",
        dependencies=AUTH,
        security=SECURED,
        summary="Your support tickets, newest first",
        responses=problem_responses(401),
    )
    async def list_tickets(
        self, principal: NamedDependency[Principal], tickets: NamedDependency[SupportTickets]
    ) -> TicketList:
        return TicketList(tickets=[_summary(s) for s in await tickets.list_for_subject(principal.account_id)])

    @get(
        "/{ticket_id:uuid}",
        dependencies=AUTH,
        security=SECURED,
        summary="One of your tickets with our answers",
        responses=problem_responses(401, 404, 410),
    )
    async def get_ticket(
        self, ticket_id: FromPath[UUID], principal: NamedDependency[Principal], tickets: NamedDependency[SupportTickets]
    ) -> TicketDetail:
        return _detail(await tickets.view(principal.account_id, ticket_id))


class AddressRequestBody(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["access", "erasure"]
    email: Annotated[
        str, Meta(min_length=3, max_length=MAX_EMAIL), stated_email("the reply-to address you wrote to us from")
    ]


class AddressRequestAccepted(msgspec.Struct):
    status: Literal["link_sent"]
    detail: str


class AddressConfirmBody(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, Meta(min_length=1, max_length=128, description="the token from the mailed link")]


class AddressRequestDone(msgspec.Struct):
    type: Literal["access", "erasure"]
    tickets: list[TicketDetail]  # access: every ticket written from the address, with our answers
    tickets_erased: int  # erasure: how many were deleted
    completion_id: UUID | None  # erasure: the completion record (it names nobody)


ADDRESS_REQUEST_ACCEPTED = AddressRequestAccepted(
    status="link_sent",
    detail="If this address can receive mail, a link to confirm the request is on its way to it (valid 24 hours).",
)


class TicketAddressRequestsController(Controller):
    """Access and erasure of tickets written without an account, proven by a link mailed to the address."""

    path = "/v1/support/address-requests"
    tags = ["support", "data rights"]

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        security=[{}],
        opt={RATE_LIMIT_OPT: SENSITIVE},
        summary="Ask to see or delete the tickets you wrote without an account (a link is mailed to the address)",
        responses=problem_responses(400, 413, 422, 429),
    )
    async def submit_address_request(
        self, data: JSONBody[AddressRequestBody], address_requests: NamedDependency[AddressRequests]
    ) -> AddressRequestAccepted:
        """The same answer, after the same work, whether or not any ticket came from the address."""
        await address_requests.submit(data.type, data.email)
        return ADDRESS_REQUEST_ACCEPTED

    @post(
        "/confirm",
        status_code=200,
        security=[{}],
        opt={RATE_LIMIT_OPT: SENSITIVE},
        summary="Confirm a request by address with the mailed token: see or delete those tickets",
        responses=problem_responses(400, 404, 413, 429),
    )
    async def confirm_address_request(
        self, data: JSONBody[AddressConfirmBody], address_requests: NamedDependency[AddressRequests]
    ) -> AddressRequestDone:
        done = await address_requests.confirm(data.token)
        return AddressRequestDone(
            type=done.kind.value,
            tickets=[_detail(v) for v in done.tickets],
            tickets_erased=done.erased,
            completion_id=done.completion_id,
        )


def _staff_queue(queue: str, path: str, guard: Guard, tags: list[str]) -> type[Controller]:
    """The staff routes over one ticket queue; a ticket of the other queue is not found here."""

    class StaffTicketQueue(Controller):
        security = SECURED
        dependencies = STAFF

        @get("/", guards=[guard], summary=f"Open {queue} tickets, soonest due first (each listing audited)")
        async def queue_list(
            self,
            staff: NamedDependency[Principal],
            tickets: NamedDependency[SupportTickets],
            status: Annotated[
                str | None,
                QueryParameter(
                    max_length=32, description="open or answered", schema_extra={"enum": ["open", "answered"]}
                ),
            ] = None,
            flag: Annotated[
                str | None,
                QueryParameter(
                    max_length=16,
                    description="near_due or overdue",
                    schema_extra={"enum": [f.value for f in DeadlineFlag]},
                ),
            ] = None,
            due_within_days: Annotated[
                int | None, QueryParameter(ge=0, le=366, schema_extra={"minimum": 0, "maximum": 366})
            ] = None,
        ) -> TicketList:
            found = await tickets.queue(
                staff.account_id,
                queue,
                status=status,
                flag=flag,
                due_within=None if due_within_days is None else timedelta(days=due_within_days),
            )
            return TicketList(tickets=[_summary(s) for s in found])

        @get("/{ticket_id:uuid}", guards=[guard], summary=f"One {queue} ticket with its text (the reason is audited)")
        async def view(
            self,
            ticket_id: FromPath[UUID],
            reason: Annotated[
                str, QueryParameter(min_length=1, max_length=2000, schema_extra=query_text(MAX_REASON, min_length=3))
            ],
            staff: NamedDependency[Principal],
            tickets: NamedDependency[SupportTickets],
        ) -> TicketDetail:
            return _detail(await tickets.staff_view(staff.account_id, queue, ticket_id, reason))

        @post(
            "/{ticket_id:uuid}/reply",
            status_code=200,
            guards=[guard],
            summary=f"Answer a {queue} ticket: mailed to its reply-to address; closes it unless close is false",
        )
        async def reply(
            self,
            ticket_id: FromPath[UUID],
            data: JSONBody[ReplyBody],
            staff: NamedDependency[Principal],
            tickets: NamedDependency[SupportTickets],
        ) -> TicketDetail:
            return _detail(await tickets.reply(staff.account_id, queue, ticket_id, data.message, close=data.close))

        @post("/{ticket_id:uuid}/close", status_code=200, guards=[guard], summary=f"Close a {queue} ticket")
        async def close(
            self,
            ticket_id: FromPath[UUID],
            data: JSONBody[CloseBody],
            staff: NamedDependency[Principal],
            tickets: NamedDependency[SupportTickets],
        ) -> TicketReceived:
            return _received(await tickets.close(staff.account_id, queue, ticket_id, data.reason))

    StaffTicketQueue.path = path
    StaffTicketQueue.tags = tags
    StaffTicketQueue.__name__ = StaffTicketQueue.__qualname__ = f"{queue.capitalize()}TicketQueueController"
    return StaffTicketQueue


# Privacy tickets sit next to the privacy-request queue privacy officers work; support staff never see them.
PRIVACY_TICKET_QUEUE = _staff_queue(
    "privacy",
    "/v1/admin/privacy/tickets",
    PRIVACY_DESK,
    ["admin", "data rights", "support"],
)
SUPPORT_TICKET_QUEUE = _staff_queue("support", "/v1/admin/support/tickets", SUPPORT_DESK, ["admin", "support"])

FACE = HttpFace(
    routes=[SupportTicketsController, TicketAddressRequestsController, PRIVACY_TICKET_QUEUE, SUPPORT_TICKET_QUEUE],
    problems={TicketClosed: 409},
    dependencies={"tickets": lambda c: c.support.tickets, "address_requests": lambda c: c.support.address_requests},
)
