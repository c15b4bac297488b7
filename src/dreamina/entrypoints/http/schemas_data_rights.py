"""Request and response bodies of the data-rights routes (the subject's and staff's views of a request)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dreamina.domain.data_rights.records import RequestView
from dreamina.ports.data_rights import PrivacyRequest

RequestType = Literal["access", "export", "rectification", "erasure", "objection", "restriction"]


Secret = Annotated[str, Meta(min_length=1, max_length=1024)]


class PrivacyRequestBody(msgspec.Struct, forbid_unknown_fields=True):
    type: RequestType
    details: dict[str, Any] | None = None
    password: Secret | None = None


class VerifyBody(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    password: Secret | None = None


class CancelBody(msgspec.Struct, forbid_unknown_fields=True):
    confirm: Literal[True]


class RequestAccepted(msgspec.Struct):
    id: UUID
    status: str
    due_at: datetime


class RequestSummary(msgspec.Struct):
    id: UUID
    type: str
    status: str
    received_at: datetime
    due_at: datetime
    jurisdiction: str
    extended: bool
    scheduled_for: datetime | None


class RequestList(msgspec.Struct):
    requests: list[RequestSummary]


class HistoryEntry(msgspec.Struct):
    status: str
    actor_kind: str
    note: str | None
    occurred_at: datetime


class RequestDetail(msgspec.Struct):
    id: UUID
    type: str
    status: str
    received_at: datetime
    due_at: datetime
    jurisdiction: str
    extended: bool
    extension_reason: str | None
    clock_paused: bool
    scheduled_for: datetime | None
    details: dict[str, Any]
    outcome: dict[str, Any]
    history: list[HistoryEntry]


def summary(r: PrivacyRequest) -> RequestSummary:
    return RequestSummary(
        id=r.id,
        type=r.type,
        status=r.status,
        received_at=r.received_at,
        due_at=r.due_at,
        jurisdiction=r.jurisdiction,
        extended=r.extended_at is not None,
        scheduled_for=r.scheduled_for,
    )


def detail(view: RequestView) -> RequestDetail:
    r = view.request
    return RequestDetail(
        id=r.id,
        type=r.type,
        status=r.status,
        received_at=r.received_at,
        due_at=r.due_at,
        jurisdiction=r.jurisdiction,
        extended=r.extended_at is not None,
        extension_reason=r.extension_reason,
        clock_paused=r.paused_since is not None,
        scheduled_for=r.scheduled_for,
        details=view.details,
        outcome=r.outcome,
        history=[HistoryEntry(e.status, e.actor_kind, e.note, e.occurred_at) for e in view.history],
    )
