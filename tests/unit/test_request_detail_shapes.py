"""A request as the API shows it: its type's details exactly as stored (null once they cannot be read), and an
outcome of known members only (issue 16 finding 2)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from dreamina.domain.data_rights.records import RequestView
from dreamina.entrypoints.http.schemas_data_rights import detail
from dreamina.ports.data_rights import PrivacyRequest, RequestStatus, RequestType

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def shown(kind: RequestType, details: dict[str, Any], outcome: dict[str, Any] | None = None) -> dict[str, Any]:
    request = PrivacyRequest(
        id=uuid.uuid4(),
        subject_id=uuid.uuid4(),
        type=kind,
        status=RequestStatus.COMPLETED,
        jurisdiction="DE",
        received_at=NOW,
        due_at=NOW,
        updated_at=NOW,
        outcome=outcome or {},
    )
    encoded: dict[str, Any] = json.loads(msgspec.json.encode(detail(RequestView(request=request, details=details))))
    assert encoded["type"] == kind
    return encoded


@pytest.mark.parametrize(
    ("kind", "stored", "expected"),
    [
        (RequestType.ACCESS, {}, {}),
        (RequestType.EXPORT, {"note": "for my records"}, {"note": "for my records"}),
        (RequestType.ERASURE, {}, {}),
        (RequestType.RECTIFICATION, {"corrections": {"display_name": None}}, {"corrections": {"display_name": None}}),
        (RequestType.OBJECTION, {"purpose": "marketing", "withdraw": True}, {"purpose": "marketing", "withdraw": True}),
        (RequestType.RESTRICTION, {"action": "lift"}, {"action": "lift"}),
        # what an erasure leaves readable once the subject's key is destroyed: nothing to fill the type's details
        (RequestType.OBJECTION, {}, None),
        (RequestType.RESTRICTION, {}, None),
    ],
)
def test_details_are_shown_exactly_as_stored(
    kind: RequestType, stored: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    assert shown(kind, stored)["details"] == expected


def test_the_outcome_keeps_its_members_and_refuses_an_unknown_one() -> None:
    outcome = {"download": "/v1/privacy/requests/x/download", "archive_bytes": 2048, "expires_at": NOW.isoformat()}
    assert shown(RequestType.EXPORT, {}, outcome)["outcome"] == {**outcome, "expires_at": "2026-11-25T12:00:00Z"}
    assert shown(RequestType.ACCESS, {})["outcome"] == {}
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        shown(RequestType.ACCESS, {}, {"report": "/r", "surprise": 1})
