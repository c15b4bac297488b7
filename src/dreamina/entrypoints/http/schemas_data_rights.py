"""Request and response bodies of the data-rights routes (the subject's and staff's views of a request)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dreamina.domain.data_rights.records import RequestView
from dreamina.ports.data_rights import PrivacyRequest
from dreamina.ports.processor_notices import NoticeStatus, ProcessorNotification

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


class ProcessorNotificationOut(msgspec.Struct):
    """What one processor was asked about an erasure, how, and with what outcome (names nobody)."""

    id: UUID
    request_id: UUID
    completion_id: UUID
    processor: str
    method: Literal["api", "webhook", "email", "none"]
    status: Literal["open", "done", "given_up"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    last_error: str | None


class ProcessorNotificationList(msgspec.Struct):
    notifications: list[ProcessorNotificationOut]


def notification_out(n: ProcessorNotification) -> ProcessorNotificationOut:
    return ProcessorNotificationOut(
        id=n.id,
        request_id=n.request_id,
        completion_id=n.completion_id,
        processor=n.processor,
        method=n.method.value,
        status=n.status.value,
        attempts=n.attempts,
        created_at=n.created_at,
        next_attempt_at=n.next_attempt_at if n.status is NoticeStatus.OPEN else None,
        last_attempt_at=n.last_attempt_at,
        finished_at=n.finished_at,
        outcome=n.outcome,
        last_error=n.last_error,
    )


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
    processor_notifications: list[ProcessorNotificationOut] = []  # an erasure's notices to processors


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
        processor_notifications=[notification_out(n) for n in view.processor_notifications],
    )
