"""G9 legal clock: due dates and extension bounds for every jurisdiction row, from receipt on 31 January."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dreamina.domain.data_rights import clock
from dreamina.domain.privacy.jurisdictions import load_jurisdictions

TABLE = load_jurisdictions()
RECEIVED = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def _d(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


# (due from receipt on 31 Jan 2026, latest due after the one extension or None), from shared/policy/jurisdictions.md
EXPECTED: dict[str, tuple[datetime, datetime | None]] = {
    "EU": (_d(2, 28), _d(4, 28)),  # one calendar month clamps to 28 Feb; +2 months
    "GB": (_d(2, 28), _d(4, 28)),
    "US": (_d(3, 2), None),  # COPPA sets no figure: the fallback's 30 days, no extension
    "US-CA": (_d(3, 17), _d(5, 1)),  # 45 days, +45
    "US-VA": (_d(3, 17), _d(5, 1)),
    "US-CO": (_d(3, 17), _d(5, 1)),
    "US-CT": (_d(3, 17), _d(5, 1)),
    "BR": (_d(2, 15), None),  # LGPD 15 days
    "CA": (_d(3, 2), _d(4, 1)),
    "CA-QC": (_d(3, 2), None),
    "JP": (_d(2, 14), None),
    "KR": (_d(2, 10), None),  # PIPA 10 days
    "CN": (_d(2, 15), None),
    "IN": (_d(5, 1), None),
    "AU": (_d(3, 2), None),
    "SG": (_d(3, 2), None),  # an extension with no fixed length is never granted automatically
    "fallback": (_d(3, 2), _d(4, 1)),
}
PAUSES = {"EU", "GB"}


def _expected(code: str) -> tuple[datetime, datetime | None]:
    if code in EXPECTED:
        return EXPECTED[code]
    assert TABLE.rules[code].regime.startswith("GDPR"), f"{code} needs a row in EXPECTED"
    return EXPECTED["EU"]  # EEA member states take the EU clock


@pytest.mark.parametrize("code", sorted(TABLE.rules))
def test_due_date_and_extension_bound_for_every_row(code: str) -> None:
    rule = TABLE.rules[code]
    due, extended = _expected(code)
    assert clock.initial_due(rule, RECEIVED) == due
    assert clock.extended_due(rule, due) == extended


@pytest.mark.parametrize("code", sorted(TABLE.rules))
def test_pause_for_identity_proof_only_where_the_law_allows(code: str) -> None:
    rule = TABLE.rules[code]
    gdpr = code in PAUSES or rule.regime.startswith("GDPR")
    assert clock.pauses_for_verification(rule) is gdpr


def test_a_pause_moves_the_due_date_by_its_length() -> None:
    rule = TABLE.rules["DE"]
    assert clock.due_after_pause(rule, RECEIVED, 3 * 86400) == _d(3, 3)


def test_month_end_receipts() -> None:
    rule = TABLE.rules["EU"]
    assert clock.initial_due(rule, datetime(2028, 1, 31, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)
    assert clock.initial_due(rule, datetime(2026, 3, 31, tzinfo=UTC)) == datetime(2026, 4, 30, tzinfo=UTC)
    assert clock.initial_due(rule, datetime(2026, 12, 31, tzinfo=UTC)) == datetime(2027, 1, 31, tzinfo=UTC)


def test_deadline_flags() -> None:
    due = _d(3, 10)
    assert clock.deadline_flag(due, _d(3, 1)) is None
    assert clock.deadline_flag(due, _d(3, 7)) == "near_due"
    assert clock.deadline_flag(due, _d(3, 10)) == "overdue"
