"""The audit trail's staff filters and cursors (``dreamina.domain.privacy.audit_trail``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from dreamina.domain.privacy.audit_trail import audit_query, cursor_token, parse_cursor
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.ports.audit import ActorKind, AuditEvent


def test_days_are_whole_utc_days_both_included() -> None:
    query = audit_query(first_day=date(2026, 11, 1), last_day=date(2026, 11, 1), action="  privacy_request. ")
    assert query.since == datetime(2026, 11, 1, tzinfo=UTC) and query.until == datetime(2026, 11, 2, tzinfo=UTC)
    assert query.action_prefix == "privacy_request."
    assert audit_query(action="   ").action_prefix is None
    assert audit_query(actor_kind="staff").actor_kind is ActorKind.STAFF


@pytest.mark.parametrize(
    "given",
    [
        {"actor_kind": "robot"},
        {"action": "bad\x00"},
        {"action": "a" * 101},
        {"first_day": date(2026, 11, 2), "last_day": date(2026, 11, 1)},
    ],
)
def test_bad_filters_are_refused_naming_the_field(given: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        audit_query(**given)  # type: ignore[arg-type]


def test_a_cursor_round_trips_and_anything_else_is_refused() -> None:
    event = AuditEvent(uuid.uuid4(), uuid.uuid4(), ActorKind.SYSTEM, None, "x", (), None, datetime.now(UTC))
    cursor = parse_cursor(cursor_token(event))
    assert (cursor.occurred_at, cursor.id) == (event.occurred_at, event.id)
    for bad in ("", "x", "2026-11-01T00:00:00~nope", f"2026-11-01T00:00:00~{uuid.uuid4()}", "~" + str(uuid.uuid4())):
        with pytest.raises(InvalidInput):
            parse_cursor(bad)
