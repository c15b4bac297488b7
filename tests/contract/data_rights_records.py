"""Record builders for the data-rights contract suite (also used by the repository suite's one-of-everything)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import Objection
from dreamina.ports.data_rights import ErasureCompletion, PrivacyJob, PrivacyRequest, RequestEvent
from dreamina.ports.unit_of_work import UnitOfWork

AT = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def make_request(subject_id: UUID, **changes: Any) -> PrivacyRequest:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "subject_id": subject_id,
        "type": "export",
        "status": "received",
        "jurisdiction": "DE",
        "received_at": AT,
        "due_at": AT + timedelta(days=30),
        "updated_at": AT,
        "details_ciphertext": b"\x00sealed",
        "outcome": {"n": 1, "nested": {"k": ["v"]}},
    }
    values.update(changes)
    return PrivacyRequest(**values)


def make_request_event(request: PrivacyRequest, **changes: Any) -> RequestEvent:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "request_id": request.id,
        "subject_id": request.subject_id,
        "status": "received",
        "actor_kind": "subject",
        "actor_id": request.subject_id,
        "note": "note",
        "occurred_at": AT,
    }
    values.update(changes)
    return RequestEvent(**values)


def make_job(request: PrivacyRequest, **changes: Any) -> PrivacyJob:
    values: dict[str, Any] = {
        "request_id": request.id,
        "subject_id": request.subject_id,
        "kind": "export",
        "state": "pending",
        "run_after": AT,
        "updated_at": AT,
        "completion_id": uuid.uuid4(),
        "steps_done": ("a",),
        "processor_calls": ({"processor": "stripe", "reference": "cus_1", "status": "pending", "attempts": 0},),
    }
    values.update(changes)
    return PrivacyJob(**values)


async def write_one_of_each_data_rights_record(uow: UnitOfWork, subject_id: UUID) -> None:
    request = make_request(subject_id)
    await uow.privacy_requests.add(request)
    await uow.privacy_request_events.append(make_request_event(request))
    await uow.privacy_jobs.add(make_job(request))
    await uow.erasure_completions.add(ErasureCompletion(id=uuid.uuid4(), completed_at=AT, outcome={"holders": []}))
    await uow.restrictions.restrict(subject_id, "contested accuracy", AT)
    await uow.objections.put(Objection(subject_id, Purpose.ANALYTICS, True, AT))
