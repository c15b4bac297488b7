"""Request and response bodies of the data-rights routes (the subject's and staff's views of a request)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

import msgspec
from msgspec import Meta

from dreamina.domain.data_rights.details import CORRECTABLE_FIELDS, MAX_FREE_TEXT, MAX_REASON
from dreamina.domain.data_rights.records import RequestView
from dreamina.entrypoints.http.schemas_consent import ObjectablePurpose
from dreamina.entrypoints.http.texts import stated_text
from dreamina.ports.audit import ActorKind
from dreamina.ports.data_rights import PrivacyRequest, RequestStatus, RequestType
from dreamina.ports.processor_notices import NoticeStatus, ProcessorNotification

Secret = Annotated[str, Meta(min_length=1, max_length=1024)]


Reason = Annotated[str, Meta(max_length=MAX_REASON * 4), stated_text(MAX_REASON, multiline=True)]


# Optional members default to UNSET: a member not given is not stored, and not sent back when a request is shown.


class NoteDetails(msgspec.Struct, forbid_unknown_fields=True):
    note: Reason | msgspec.UnsetType | None = msgspec.UNSET


class ErasureDetails(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | msgspec.UnsetType | None = msgspec.UNSET


class Corrections(msgspec.Struct, forbid_unknown_fields=True):
    """The new values of the fields a rectification can correct directly; describe any other in ``free_text``."""

    email: str | msgspec.UnsetType | None = msgspec.UNSET
    display_name: str | msgspec.UnsetType | None = msgspec.UNSET
    birth_date: Annotated[str, Meta(description="YYYY-MM-DD")] | msgspec.UnsetType | None = msgspec.UNSET


assert set(Corrections.__struct_fields__) == set(CORRECTABLE_FIELDS)


class RectificationDetails(msgspec.Struct, forbid_unknown_fields=True):
    """``corrections`` or ``free_text``: a rectification needs at least one (422 otherwise)."""

    corrections: Corrections | msgspec.UnsetType | None = msgspec.UNSET
    free_text: (
        Annotated[str, Meta(max_length=MAX_FREE_TEXT * 4), stated_text(MAX_FREE_TEXT, multiline=True)]
        | msgspec.UnsetType
        | None
    ) = msgspec.UNSET


class ObjectionDetails(msgspec.Struct, forbid_unknown_fields=True):
    purpose: Annotated[ObjectablePurpose, Meta(description="the purpose objected to")]
    withdraw: Annotated[bool, Meta(description="true: withdraw an earlier objection")] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )


class RestrictionDetails(msgspec.Struct, forbid_unknown_fields=True):
    action: Annotated[Literal["restrict", "lift"], Meta(description="restrict processing, or lift a restriction")] = (
        "restrict"
    )
    reason: Reason | msgspec.UnsetType | None = msgspec.UNSET


class _RequestBody(msgspec.Struct, forbid_unknown_fields=True, tag_field="type", kw_only=True):
    password: Annotated[Secret, Meta(description="the account's password (identity proof)")] | None = None


class AccessRequestBody(_RequestBody, tag="access"):
    details: NoteDetails | None = None


class ExportRequestBody(_RequestBody, tag="export"):
    details: NoteDetails | None = None


class ErasureRequestBody(_RequestBody, tag="erasure"):
    details: ErasureDetails | None = None


class RectificationRequestBody(_RequestBody, tag="rectification"):
    details: RectificationDetails


class ObjectionRequestBody(_RequestBody, tag="objection"):
    details: ObjectionDetails


class RestrictionRequestBody(_RequestBody, tag="restriction"):
    details: RestrictionDetails | None = None


PrivacyRequestBody = (
    AccessRequestBody
    | ExportRequestBody
    | RectificationRequestBody
    | ErasureRequestBody
    | ObjectionRequestBody
    | RestrictionRequestBody
)
"""A privacy request: its ``type`` decides which ``details`` it carries."""


def request_type(body: PrivacyRequestBody) -> str:
    """The body's ``type`` (its tag)."""
    return str(body.__struct_config__.tag)


def request_details(body: PrivacyRequestBody) -> dict[str, Any] | None:
    """The body's ``details`` as the domain validates them (members left out are not sent)."""
    return msgspec.to_builtins(body.details) if body.details is not None else None


class VerifyBody(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    password: Secret | None = None


class CancelBody(msgspec.Struct, forbid_unknown_fields=True):
    confirm: Literal[True]


class RequestAccepted(msgspec.Struct):
    id: UUID
    status: RequestStatus
    due_at: datetime


class RequestSummary(msgspec.Struct):
    id: UUID
    type: RequestType
    status: RequestStatus
    received_at: datetime
    due_at: datetime
    jurisdiction: str
    extended: bool
    scheduled_for: datetime | None


class RequestList(msgspec.Struct):
    requests: list[RequestSummary]


class HistoryEntry(msgspec.Struct):
    status: RequestStatus
    actor_kind: ActorKind
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


CorrectableField = Literal["email", "display_name", "birth_date"]
assert get_args(CorrectableField) == CORRECTABLE_FIELDS


class RequestOutcome(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What was done, as far as it is done: the members the request's type and course wrote (others are left out).
    Counts, links and states only: never a personal value."""

    report: Annotated[str, Meta(description="access: the path of the access report")] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    download: Annotated[str, Meta(description="export: the path of the archive")] | msgspec.UnsetType = msgspec.UNSET
    archive_bytes: Annotated[int, Meta(description="export: the archive's size")] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    expires_at: (
        Annotated[datetime, Meta(description="export: when the archive is deleted")] | msgspec.UnsetType | None
    ) = msgspec.UNSET
    completion_id: (
        Annotated[UUID, Meta(description="erasure: the record proving it finished (names nobody)")] | msgspec.UnsetType
    ) = msgspec.UNSET
    fields_corrected: (
        Annotated[list[CorrectableField], Meta(description="rectification: the fields corrected at once")]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    objection_recorded: (
        Annotated[ObjectablePurpose, Meta(description="objection: the purpose now objected to")] | msgspec.UnsetType
    ) = msgspec.UNSET
    objection_withdrawn: (
        Annotated[ObjectablePurpose, Meta(description="objection: the purpose no longer objected to")]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    restriction: (
        Annotated[Literal["in_force", "lifted"], Meta(description="restriction: where the restriction stands")]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    resolved_by_staff: (
        Annotated[bool, Meta(description="a request under review that staff carried out")] | msgspec.UnsetType
    ) = msgspec.UNSET


class _RequestDetail(msgspec.Struct, tag_field="type", kw_only=True):
    id: UUID
    status: RequestStatus
    received_at: datetime
    due_at: datetime
    jurisdiction: str
    extended: bool
    extension_reason: str | None
    clock_paused: bool
    scheduled_for: datetime | None
    outcome: RequestOutcome
    history: list[HistoryEntry]
    processor_notifications: list[ProcessorNotificationOut] = []  # an erasure's notices to processors


# ``details``: what the request carries, as its type's body gave it; null when it can no longer be read (an
# erasure destroys the subject's key before the request records themselves go).


class AccessRequestDetail(_RequestDetail, tag="access"):
    details: NoteDetails | None


class ExportRequestDetail(_RequestDetail, tag="export"):
    details: NoteDetails | None


class ErasureRequestDetail(_RequestDetail, tag="erasure"):
    details: ErasureDetails | None


class RectificationRequestDetail(_RequestDetail, tag="rectification"):
    details: RectificationDetails | None


class ObjectionRequestDetail(_RequestDetail, tag="objection"):
    details: ObjectionDetails | None


class RestrictionRequestDetail(_RequestDetail, tag="restriction"):
    details: RestrictionDetails | None


RequestDetail = (
    AccessRequestDetail
    | ExportRequestDetail
    | RectificationRequestDetail
    | ErasureRequestDetail
    | ObjectionRequestDetail
    | RestrictionRequestDetail
)
"""One request as its subject or staff see it: its ``type`` decides which ``details`` it carries."""
DETAIL_OF: dict[RequestType, Callable[..., RequestDetail]] = {
    RequestType(str(shape.__struct_config__.tag)): shape for shape in get_args(RequestDetail)
}
assert set(DETAIL_OF) == set(RequestType)
DETAILS_OF: dict[RequestType, Any] = {
    RequestType(str(shape.__struct_config__.tag)): next(
        f.type for f in msgspec.structs.fields(shape) if f.name == "details"
    )
    for shape in get_args(RequestDetail)
}
"""Each type's ``details`` annotation (its struct, or None)."""


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
    return DETAIL_OF[r.type](
        id=r.id,
        status=r.status,
        received_at=r.received_at,
        due_at=r.due_at,
        jurisdiction=r.jurisdiction,
        extended=r.extended_at is not None,
        extension_reason=r.extension_reason,
        clock_paused=r.paused_since is not None,
        scheduled_for=r.scheduled_for,
        details=_details(DETAILS_OF[r.type], view.details),
        outcome=msgspec.convert(r.outcome, RequestOutcome),
        history=[HistoryEntry(e.status, e.actor_kind, e.note, e.occurred_at) for e in view.history],
        processor_notifications=[notification_out(n) for n in view.processor_notifications],
    )


def _details(kind: Any, stored: dict[str, Any]) -> Any:
    """``stored`` as ``kind`` (a type's details), member for member; None when they do not fill it exactly (what is
    left once the subject's key is destroyed is ``{}``: no restriction ``action``, no objection ``purpose``)."""
    try:
        typed = msgspec.convert(stored, kind)
    except msgspec.ValidationError:
        return None
    return typed if msgspec.to_builtins(typed) == stored else None
