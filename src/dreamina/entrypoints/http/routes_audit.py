"""The audit trail for privacy officers and admins: a filtered search, newest first, a page at a time (keyset).

Every page read is audited as a staff access in the use case (``AuditTrail``): each subject shown gets an event
naming the staff member. An event shows what the trail holds: ids (never an address or a name), the action, the
names of the fields it touched (never their values), and the reason its actor gave.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.audit_trail import MAX_ACTION, MAX_PAGE, PAGE, AuditTrail, audit_query
from dreamina.entrypoints.http.auth import ANALYSTS, SECURED, STAFF
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.texts import query_text
from dreamina.ports.audit import ActorKind, AuditEvent


class AuditEventBody(msgspec.Struct):
    id: UUID
    subject_id: UUID
    actor_kind: ActorKind
    actor_id: UUID | None
    action: str
    fields: list[str]
    reason: str | None
    occurred_at: datetime


class AuditEventPage(msgspec.Struct):
    events: list[AuditEventBody]
    next_before: str | None


def audit_event_body(e: AuditEvent) -> AuditEventBody:
    return AuditEventBody(
        id=e.id,
        subject_id=e.subject_id,
        actor_kind=ActorKind(e.actor_kind),
        actor_id=e.actor_id,
        action=e.action,
        fields=list(e.fields),
        reason=e.reason,
        occurred_at=e.occurred_at,
    )


ActionFilter = Annotated[
    str | None,
    QueryParameter(
        max_length=MAX_ACTION,
        schema_extra=query_text(MAX_ACTION),
        description="events whose action starts with this (case-sensitive)",
    ),
]
ActorKindFilter = Annotated[
    str | None,
    QueryParameter(max_length=16, schema_extra={"enum": [k.value for k in ActorKind]}, description="who acted"),
]
Cursor = Annotated[str | None, QueryParameter(max_length=100, description="`next_before` of the previous page")]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="events per page")]


class AuditController(Controller):
    path = "/v1/admin/audit-events"
    tags = ["admin"]
    security = SECURED
    dependencies = STAFF

    @get(
        "/",
        guards=[ANALYSTS],
        summary="The audit trail, filtered, newest first, a page at a time (each subject shown is audited)",
    )
    async def search(
        self,
        staff: NamedDependency[Principal],
        audit_trail: NamedDependency[AuditTrail],
        action: ActionFilter = None,
        actor_kind: ActorKindFilter = None,
        actor_id: Annotated[UUID | None, QueryParameter(description="events by this actor only")] = None,
        subject_id: Annotated[UUID | None, QueryParameter(description="events about this subject only")] = None,
        first_day: Annotated[date | None, QueryParameter(name="from", description="a UTC day, included")] = None,
        last_day: Annotated[date | None, QueryParameter(name="to", description="a UTC day, included")] = None,
        limit: Limit = PAGE,
        before: Cursor = None,
    ) -> AuditEventPage:
        query = audit_query(
            action=action,
            actor_kind=actor_kind,
            actor_id=actor_id,
            subject_id=subject_id,
            first_day=first_day,
            last_day=last_day,
        )
        found = await audit_trail.search(staff.account_id, query, limit, before)
        return AuditEventPage(events=[audit_event_body(e) for e in found.events], next_before=found.next_before)


FACE = HttpFace(routes=[AuditController], dependencies={"audit_trail": lambda c: c.privacy.audit_trail})
