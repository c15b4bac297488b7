"""The jurisdiction table: every row loads and resolves to the figures in shared/policy/jurisdictions.md.

The expected figures below are transcribed by hand from the policy doc, not computed from the JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import resources

import pytest

from dreamina.domain.privacy.errors import InvalidInput
from dreamina.domain.privacy.jurisdictions import (
    Deadline,
    JurisdictionDataError,
    JurisdictionRule,
    JurisdictionTable,
    add_months,
    due_date,
    load_jurisdictions,
    normalise_location,
    parse_jurisdictions,
)

# code -> min age without a parent, from the doc's main table.
DOC_ROW_AGES: dict[str, int] = {
    "EU": 16,
    "GB": 13,
    "US": 13,
    "US-CA": 13,
    "US-VA": 13,
    "US-CO": 13,
    "US-CT": 13,
    "BR": 12,
    "CA": 13,
    "CA-QC": 14,
    "JP": 16,
    "KR": 14,
    "CN": 14,
    "IN": 18,
    "AU": 15,
    "SG": 13,
    "fallback": 16,
}

# GDPR Art 8 ages by EEA member state, from the doc's list (EU 27 + IS, LI, NO).
DOC_EEA_AGES: dict[str, int] = {
    **dict.fromkeys(["BE", "EE", "FI", "LV", "MT", "PT", "SE", "IS", "NO"], 13),
    **dict.fromkeys(["AT", "BG", "CY", "IT", "LT", "ES"], 14),
    **dict.fromkeys(["CZ", "FR", "GR", "SI", "DK"], 15),
    **dict.fromkeys(["HR", "DE", "HU", "IE", "LU", "NL", "PL", "RO", "SK", "LI"], 16),
}

# code -> (unit, amount) of the answer clock, from the doc. US federal has none and uses the fallback 30 days.
DOC_RESPONSE: dict[str, tuple[str, int]] = {
    "EU": ("months", 1),
    "GB": ("months", 1),
    "US": ("days", 30),
    "US-CA": ("days", 45),
    "US-VA": ("days", 45),
    "US-CO": ("days", 45),
    "US-CT": ("days", 45),
    "BR": ("days", 15),
    "CA": ("days", 30),
    "CA-QC": ("days", 30),
    "JP": ("days", 14),
    "KR": ("days", 10),
    "CN": ("days", 15),
    "IN": ("days", 90),
    "AU": ("days", 30),
    "SG": ("days", 30),
    "fallback": ("days", 30),
}

DOC_GPC_REQUIRED = {"US-CA", "US-CO", "US-CT", "fallback"}

EU_27 = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
}  # fmt: skip


@pytest.fixture(scope="module")
def table() -> JurisdictionTable:
    return load_jurisdictions()


def _raw_document() -> dict:
    return json.loads(resources.files("dreamina.data").joinpath("jurisdictions.json").read_text("utf-8"))


def test_table_is_versioned_and_cached(table: JurisdictionTable) -> None:
    assert table.version == "2026-11-25"
    assert table.source == "shared/policy/jurisdictions.md"
    assert load_jurisdictions() is table


def test_doc_lists_every_eea_state() -> None:
    assert set(DOC_EEA_AGES) == EU_27 | {"IS", "LI", "NO"}


def test_every_row_of_the_doc_and_every_eea_state_is_in_the_table(table: JurisdictionTable) -> None:
    assert set(table.rules) == set(DOC_ROW_AGES) | set(DOC_EEA_AGES)


@pytest.mark.parametrize("code", sorted(DOC_ROW_AGES) + sorted(DOC_EEA_AGES))
def test_every_rule_is_well_formed(table: JurisdictionTable, code: str) -> None:
    rule = table.rules[code]
    vocabulary = set(_raw_document()["rights_vocabulary"])
    assert isinstance(rule, JurisdictionRule)
    assert rule.code == code
    assert rule.regime
    assert isinstance(rule.min_age, int)
    assert rule.response.unit in {"months", "days", "business_days"}
    assert isinstance(rule.response.amount, int) and rule.response.amount > 0
    assert rule.rights and set(rule.rights) <= vocabulary
    if rule.extension is None:
        assert rule.extension_needs_notice is False


@pytest.mark.parametrize(("code", "age"), sorted(DOC_ROW_AGES.items()))
def test_row_minimum_age_matches_doc(table: JurisdictionTable, code: str, age: int) -> None:
    assert table.rules[code].min_age == age


@pytest.mark.parametrize(("code", "age"), sorted(DOC_EEA_AGES.items()))
def test_member_state_minimum_age_matches_doc(table: JurisdictionTable, code: str, age: int) -> None:
    assert table.minimum_age(code, None) == age
    rule = table.resolve(code, None)
    eu = table.rules["EU"]
    assert rule.code == code
    assert (rule.response, rule.extension, rule.rights) == (eu.response, eu.extension, eu.rights)
    assert rule.extension_needs_notice is True


@pytest.mark.parametrize(("code", "expected"), sorted(DOC_RESPONSE.items()))
def test_response_clock_matches_doc(table: JurisdictionTable, code: str, expected: tuple[str, int]) -> None:
    assert table.rules[code].response == Deadline(*expected)


@pytest.mark.parametrize("code", sorted(DOC_ROW_AGES))
def test_gpc_flag_matches_doc(table: JurisdictionTable, code: str) -> None:
    assert table.rules[code].gpc_required is (code in DOC_GPC_REQUIRED)


def test_extensions_match_doc(table: JurisdictionTable) -> None:
    r = table.rules
    assert (r["EU"].extension, r["EU"].extension_needs_notice) == (Deadline("months", 2), True)
    assert r["GB"].extension == Deadline("months", 2)
    assert (r["US-CA"].extension, r["US-CA"].extension_needs_notice) == (Deadline("days", 45), True)
    assert r["US-CA"].confirm_within == Deadline("business_days", 10)
    assert r["US-CA"].opt_out_within == Deadline("business_days", 15)
    assert (r["CA"].extension, r["CA"].extension_needs_notice) == (Deadline("days", 30), True)
    assert (r["fallback"].extension, r["fallback"].extension_needs_notice) == (Deadline("days", 30), True)
    for code in ("US", "BR", "CA-QC", "JP", "KR", "CN", "IN", "AU"):
        assert r[code].extension is None, code


def test_uncertain_rows_carry_a_note(table: JurisdictionTable) -> None:
    for code in ("US", "JP", "CN", "IN", "AU", "CA", "CA-QC", "BR", "SG", "ES", "NO"):
        assert table.rules[code].note, code
    assert "2027-05-13" in (table.rules["IN"].note or "")


def test_fallback_rights_are_the_policys_six(table: JurisdictionTable) -> None:
    assert set(table.rules["fallback"].rights) == {
        "access",
        "rectify",
        "erase",
        "portability",
        "object",
        "restrict",
    }


@pytest.mark.parametrize(
    ("country", "region", "code", "age"),
    [
        ("US", "US-CA", "US-CA", 13),
        ("us", "us-ca", "US-CA", 13),
        ("US", "US-NY", "US", 13),
        ("US", None, "US", 13),
        ("CA", "CA-QC", "CA-QC", 14),
        ("CA", "CA-ON", "CA", 13),
        ("DE", None, "DE", 16),
        ("DE", "DE-BY", "DE", 16),
        ("FR", None, "FR", 15),
        ("GR", None, "GR", 15),
        ("ZA", None, "fallback", 16),
        ("ZA", "ZA-GP", "fallback", 16),
        ("IN", None, "IN", 18),
        ("KR", None, "KR", 14),
        ("CN", None, "CN", 14),
        ("GB", None, "GB", 13),
        ("GB", "GB-SCT", "GB", 13),
        ("BR", None, "BR", 12),
    ],
)
def test_resolution_most_specific_wins(
    table: JurisdictionTable, country: str, region: str | None, code: str, age: int
) -> None:
    assert table.resolve(country, region).code == code
    assert table.minimum_age(country, region) == age


def test_resolve_validates_input(table: JurisdictionTable) -> None:
    with pytest.raises(InvalidInput):
        table.resolve("EU", None)  # the EU default row is not a country
    with pytest.raises(InvalidInput):
        table.resolve("fallback", None)


@pytest.mark.parametrize(
    ("country", "region", "expected"),
    [
        ("us", None, ("US", None)),
        ("US", "US-CA", ("US", "US-CA")),
        ("us", "us-ca", ("US", "US-CA")),
        ("gb", "GB-ENG", ("GB", "GB-ENG")),
    ],
)
def test_normalise_location_accepts(country: str, region: str | None, expected: tuple) -> None:
    assert normalise_location(country, region) == expected


@pytest.mark.parametrize(
    ("country", "region", "field"),
    [
        ("XX", None, "country"),
        ("USA", None, "country"),
        ("", None, "country"),
        ("U\x00", None, "country"),
        ("\x00\x00", None, "country"),
        ("U" * 10_000, None, "country"),
        ("ÜS", None, "country"),
        ("EU", None, "country"),
        (None, None, "country"),
        (42, None, "country"),
        ("US", "US-ZZ", "region"),
        ("DE", "US-CA", "region"),
        ("US", "CA", "region"),
        ("US", "", "region"),
        ("US", "US-C\x00", "region"),
        ("US", "US-" + "C" * 10_000, "region"),
        ("US", 7, "region"),
    ],
)
def test_normalise_location_rejects(country: object, region: object, field: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        normalise_location(country, region)  # type: ignore[arg-type]
    assert excinfo.value.field == field
    assert "\x00" not in excinfo.value.detail


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 5), 1, date(2027, 1, 5)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 31), 0, date(2026, 1, 31)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_add_months_keeps_time_and_zone() -> None:
    tz = timezone(timedelta(hours=2))
    assert add_months(datetime(2026, 1, 31, 13, 45, tzinfo=tz), 1) == datetime(2026, 2, 28, 13, 45, tzinfo=tz)


@pytest.mark.parametrize(
    ("received", "deadline", "expected"),
    [
        # GDPR one calendar month from 31 January ends on the last day of February.
        (
            datetime(2026, 1, 31, 9, 0, tzinfo=UTC),
            Deadline("months", 1),
            datetime(2026, 2, 28, 9, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 1, 31, 9, 0, tzinfo=UTC),
            Deadline("months", 3),
            datetime(2026, 4, 30, 9, 0, tzinfo=UTC),
        ),
        # CCPA 45 days.
        (
            datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
            Deadline("days", 45),
            datetime(2026, 2, 15, 12, 0, tzinfo=UTC),
        ),
        # 10 business days from Friday 2026-01-02 skip two weekends: Friday 2026-01-16.
        (
            datetime(2026, 1, 2, 17, 0, tzinfo=UTC),
            Deadline("business_days", 10),
            datetime(2026, 1, 16, 17, 0, tzinfo=UTC),
        ),
        # Received on a Saturday: the first business day counted is Monday.
        (
            datetime(2026, 1, 3, 10, 0, tzinfo=UTC),
            Deadline("business_days", 1),
            datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        ),
        # From Wednesday, 3 business days cross the weekend to Monday.
        (
            datetime(2026, 1, 7, 10, 0, tzinfo=UTC),
            Deadline("business_days", 3),
            datetime(2026, 1, 12, 10, 0, tzinfo=UTC),
        ),
    ],
)
def test_due_date(received: datetime, deadline: Deadline, expected: datetime) -> None:
    assert due_date(received, deadline) == expected


def test_due_date_for_every_rule_is_after_receipt(table: JurisdictionTable) -> None:
    received = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    for rule in table.rules.values():
        assert due_date(received, rule.response) > received


def test_due_date_rejects_open_ended_deadline(table: JurisdictionTable) -> None:
    sg_extension = table.rules["SG"].extension
    assert sg_extension is not None and sg_extension.amount is None
    with pytest.raises(ValueError, match="no fixed length"):
        due_date(datetime(2026, 1, 1, tzinfo=UTC), sg_extension)


def test_loader_rejects_unknown_right() -> None:
    document = _raw_document()
    document["rules"][0]["rights"] = [*document["rules"][0]["rights"], "teleport"]
    with pytest.raises(JurisdictionDataError, match="teleport"):
        parse_jurisdictions(document)


def test_loader_rejects_bad_unit() -> None:
    document = _raw_document()
    document["rules"][0]["response"] = {"unit": "weeks", "amount": 4}
    with pytest.raises(JurisdictionDataError, match="unit"):
        parse_jurisdictions(document)


def test_loader_rejects_duplicate_rows() -> None:
    document = _raw_document()
    document["rules"].append(document["rules"][1])
    with pytest.raises(JurisdictionDataError, match="duplicate"):
        parse_jurisdictions(document)
