"""Staff side of the data-rights engine: the request queue (soonest due first), decisions, extensions and expedited
erasures.

Every list and every view is audited as a staff access (in the use cases); decisions need a reason, which the
subject is told. Support staff may read the queue; only privacy officers and admins decide.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from dreamina.domain.data_rights.details import MAX_REASON
from dreamina.domain.data_rights.processor_notices import ProcessorNotices
from dreamina.domain.data_rights.queue import PrivacyRequestQueue
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import DECIDERS, EVERY_STAFF_ROLE, SECURED, STAFF
from dreamina.entrypoints.http.schemas_data_rights import (
    ProcessorNotificationList,
    RequestDetail,
    RequestList,
    RequestSummary,
    detail,
    notification_out,
    summary,
)
from dreamina.entrypoints.http.texts import query_text, stated_text
from dreamina.ports.data_rights import OPEN_STATUSES, RequestType

Reason = Annotated[
    str,
    Meta(min_length=1, max_length=2000),
    stated_text(MAX_REASON, min_length=3, description="why; the subject is told"),
]


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class PrivacyQueueController(Controller):
    path = "/v1/admin/privacy/requests"
    tags = ["admin", "data rights"]
    security = SECURED
    dependencies = STAFF

    @get("/", guards=[EVERY_STAFF_ROLE], summary="Open privacy requests, soonest due first")
    async def queue(
        self,
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
        status: Annotated[
            str | None, QueryParameter(max_length=32, schema_extra={"enum": [s.value for s in OPEN_STATUSES]})
        ] = None,
        type: Annotated[
            str | None, QueryParameter(max_length=32, schema_extra={"enum": [t.value for t in RequestType]})
        ] = None,
        flag: Annotated[str | None, QueryParameter(max_length=16, description="near_due or overdue")] = None,
        jurisdiction: Annotated[str | None, QueryParameter(max_length=16)] = None,
        due_within_days: Annotated[
            int | None, QueryParameter(ge=0, le=366, schema_extra={"minimum": 0, "maximum": 366})
        ] = None,
    ) -> RequestList:
        found = await privacy_queue.queue(
            staff.account_id,
            status=status,
            type=type,
            flag=flag,
            jurisdiction=jurisdiction,
            due_within=None if due_within_days is None else timedelta(days=due_within_days),
        )
        return RequestList(requests=[summary(r) for r in found])

    @get("/{request_id:uuid}", guards=[EVERY_STAFF_ROLE], summary="One request with its details (audited)")
    async def view(
        self,
        request_id: FromPath[UUID],
        reason: Annotated[
            str, QueryParameter(min_length=1, max_length=2000, schema_extra=query_text(MAX_REASON, min_length=3))
        ],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> RequestDetail:
        return detail(await privacy_queue.staff_view(staff.account_id, request_id, reason))

    @post("/{request_id:uuid}/approve", status_code=200, guards=[DECIDERS], summary="Approve a request under review")
    async def approve(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[DecisionBody],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> RequestSummary:
        return summary(await privacy_queue.approve(staff.account_id, request_id, data.reason))

    @post("/{request_id:uuid}/reject", status_code=200, guards=[DECIDERS], summary="Reject a request (reason sent)")
    async def reject(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[DecisionBody],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> RequestSummary:
        return summary(await privacy_queue.reject(staff.account_id, request_id, data.reason))

    @post(
        "/{request_id:uuid}/extend",
        status_code=200,
        guards=[DECIDERS],
        summary="Extend the legal deadline once, within the jurisdiction's bound (the subject is told why)",
    )
    async def extend(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[DecisionBody],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> RequestSummary:
        return summary(await privacy_queue.extend(staff.account_id, request_id, data.reason))

    @post(
        "/{request_id:uuid}/expedite",
        status_code=200,
        guards=[DECIDERS],
        summary="Run a scheduled erasure now instead of after its 30-day grace period (the subject is told why)",
    )
    async def expedite(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[DecisionBody],
        staff: NamedDependency[Principal],
        privacy_queue: NamedDependency[PrivacyRequestQueue],
    ) -> RequestSummary:
        """The erasure's job becomes due at once: the data-rights worker's next pass runs the saga."""
        return summary(await privacy_queue.expedite_erasure(staff.account_id, request_id, data.reason))


class ProcessorNotificationsController(Controller):
    """What processors were asked about erasures: the open notifications (retried with back-off) and the given-up
    ones, which a privacy officer follows up by hand. They name nobody; only deciders see them."""

    path = "/v1/admin/privacy/processor-notifications"
    tags = ["admin", "data rights"]
    security = SECURED
    dependencies = STAFF

    @get("/", guards=[DECIDERS], summary="Open and given-up notifications to processors, oldest first")
    async def notifications(
        self,
        processor_notices: NamedDependency[ProcessorNotices],
        status: Annotated[
            Literal["open", "given_up"] | None, QueryParameter(description="open or given_up; default both")
        ] = None,
    ) -> ProcessorNotificationList:
        found = await processor_notices.staff_list(status)
        return ProcessorNotificationList(notifications=[notification_out(n) for n in found])
