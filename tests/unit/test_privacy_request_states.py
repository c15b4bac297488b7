"""The states of privacy requests and their jobs: the stored strings, and the transitions the records allow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from dreamina.domain.data_rights.errors import RequestNotOpen as DomainRequestNotOpen
from dreamina.entrypoints.http.schemas_data_rights import PrivacyRequestBody
from dreamina.ports.data_rights import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    JobKind,
    JobState,
    PrivacyJob,
    PrivacyRequest,
    RequestNotOpen,
    RequestStatus,
    RequestType,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def _request(status: RequestStatus, type: RequestType = RequestType.ERASURE) -> PrivacyRequest:
    return PrivacyRequest(
        id=uuid.uuid4(),
        subject_id=uuid.uuid4(),
        type=type,
        status=status,
        jurisdiction="DE",
        received_at=NOW,
        due_at=NOW + timedelta(days=30),
        updated_at=NOW,
        flag="near_due",
    )


def _job(state: JobState) -> PrivacyJob:
    return PrivacyJob(uuid.uuid4(), uuid.uuid4(), JobKind.ERASURE, state, NOW, NOW, uuid.uuid4())


def test_the_stored_strings_are_the_ones_the_database_and_the_api_always_had() -> None:
    assert [t.value for t in RequestType] == [
        "access",
        "export",
        "rectification",
        "erasure",
        "objection",
        "restriction",
    ]
    assert [s.value for s in OPEN_STATUSES] == [
        "awaiting_verification",
        "received",
        "in_review",
        "processing",
        "scheduled",
    ]
    assert [s.value for s in CLOSED_STATUSES] == ["completed", "rejected", "cancelled"]
    assert [k.value for k in JobKind] == ["export", "erasure"]
    assert [s.value for s in JobState] == ["pending", "done", "cancelled"]
    # the request body is a union tagged by the same list
    assert [body.__struct_config__.tag for body in get_args(PrivacyRequestBody)] == [t.value for t in RequestType]


def test_the_domain_error_is_the_one_the_records_raise() -> None:
    assert DomainRequestNotOpen is RequestNotOpen and RequestNotOpen.code == "request_not_open"


@pytest.mark.parametrize("status", CLOSED_STATUSES)
def test_a_closed_request_never_moves_again(status: RequestStatus) -> None:
    request = _request(status)
    for move in (
        lambda: request.move_to(RequestStatus.PROCESSING, LATER),
        lambda: request.move_to(status, LATER),
        lambda: request.complete(LATER, {"x": 1}),
        lambda: request.extend(LATER, "reason", None, LATER),
    ):
        with pytest.raises(RequestNotOpen, match="already closed"):
            move()
    assert request.status == status and request.updated_at == NOW and request.outcome == {}


def test_closing_a_request_stamps_it_and_clears_its_deadline_flag() -> None:
    request = _request(RequestStatus.PROCESSING, RequestType.EXPORT)
    request.complete(LATER, {"download": "/x"})
    assert (request.status, request.updated_at, request.flag) == (RequestStatus.COMPLETED, LATER, None)
    assert request.outcome == {"download": "/x"}


def test_staying_in_a_status_keeps_the_flag() -> None:
    request = _request(RequestStatus.IN_REVIEW, RequestType.RECTIFICATION)
    request.move_to(request.status, LATER)
    assert (request.status, request.updated_at, request.flag) == (RequestStatus.IN_REVIEW, LATER, "near_due")


@pytest.mark.parametrize("status", [RequestStatus.RECEIVED, RequestStatus.PROCESSING, *CLOSED_STATUSES])
def test_only_a_waiting_a_scheduled_or_a_reviewed_request_can_be_cancelled(status: RequestStatus) -> None:
    with pytest.raises(RequestNotOpen, match="can no longer be cancelled"):
        _request(status).cancel(LATER)
    for open_status in (RequestStatus.AWAITING_VERIFICATION, RequestStatus.SCHEDULED, RequestStatus.IN_REVIEW):
        request = _request(open_status)
        request.cancel(LATER)
        assert request.status == RequestStatus.CANCELLED


def test_only_a_request_under_review_can_be_approved() -> None:
    with pytest.raises(RequestNotOpen, match="under review"):
        _request(RequestStatus.SCHEDULED).approve(LATER)
    request = _request(RequestStatus.IN_REVIEW, RequestType.RECTIFICATION)
    request.approve(LATER)
    assert request.status == RequestStatus.COMPLETED and request.outcome == {"resolved_by_staff": True}


@pytest.mark.parametrize(
    ("status", "type"),
    [
        (RequestStatus.AWAITING_VERIFICATION, RequestType.ERASURE),
        (RequestStatus.CANCELLED, RequestType.ERASURE),
        (RequestStatus.COMPLETED, RequestType.ERASURE),
        (RequestStatus.PROCESSING, RequestType.EXPORT),
    ],
)
def test_only_a_scheduled_erasure_can_be_expedited(status: RequestStatus, type: RequestType) -> None:
    request = _request(status, type)
    with pytest.raises(RequestNotOpen, match="only a scheduled erasure"):
        request.expedite(LATER)
    assert request.scheduled_for is None and request.updated_at == NOW


def test_an_expedited_erasure_is_due_now() -> None:
    request = _request(RequestStatus.SCHEDULED)
    request.scheduled_for = NOW + timedelta(days=30)
    request.expedite(LATER)
    assert (request.status, request.scheduled_for, request.updated_at) == (RequestStatus.SCHEDULED, LATER, LATER)


def test_a_job_stops_only_while_pending_and_finishes_once() -> None:
    pending = _job(JobState.PENDING)
    assert pending.stop(LATER) is True and pending.state == JobState.CANCELLED and pending.updated_at == LATER
    done = _job(JobState.DONE)
    assert done.stop(LATER) is False and done.state == JobState.DONE and done.updated_at == NOW
    job = _job(JobState.PENDING)
    job.record_step("archive_built", LATER)
    job.finish(LATER)
    assert (job.steps_done, job.state, job.updated_at) == (("archive_built",), JobState.DONE, LATER)
    job.run_at(NOW, LATER)
    assert job.run_after == NOW
