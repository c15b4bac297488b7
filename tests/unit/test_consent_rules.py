"""Pure rules of the consent module: GPC parsing, address truncation, client traits, an analytics batch's ids."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from dreamina.adapters.client_traits import OfflineClientClassifier
from dreamina.domain.consent.analytics import fresh_ids, truncate_address
from dreamina.domain.consent.preferences import gpc_signalled, valid_device_id


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1"], True),
        ([" 1 "], True),
        (["0", "1"], True),
        (["0, 1"], True),
        ([], False),
        (["0"], False),
        (["true"], False),
        (["11"], False),
        ([""], False),
        (["1.0"], False),
    ],
)
def test_only_exactly_1_signals_gpc(values: list[str], expected: bool) -> None:
    assert gpc_signalled(values) is expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("85.214.132.117", "85.214.132.0"),
        ("2a00:1450:4001:82a::200e", "2a00:1450:4001::"),
        ("::ffff:85.214.132.117", "85.214.132.0"),
        ("testclient", None),
        ("", None),
        (None, None),
    ],
)
def test_addresses_are_truncated_before_anything_looks_at_them(address: str | None, expected: str | None) -> None:
    assert truncate_address(address) == expected


def test_client_traits_come_from_offline_data() -> None:
    classifier = OfflineClientClassifier()
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148"
    chrome = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    )
    assert classifier.classify("85.214.132.0", iphone).device_class == "mobile"
    desktop = classifier.classify("8.8.8.0", chrome)
    assert (desktop.country, desktop.browser_family, desktop.device_class) == ("US", "Chrome", "desktop")
    assert classifier.classify(None, "Googlebot/2.1 (+http://www.google.com/bot.html)").device_class == "bot"
    assert classifier.classify("10.0.0.0", "").country is None


def test_only_device_ids_we_could_have_issued_are_read() -> None:
    assert valid_device_id("A" * 43) == "A" * 43
    for forged in ["", "short", "A" * 44, "A" * 42 + "=", "A" * 42 + ";"]:
        assert valid_device_id(forged) is None


def test_a_batch_of_fresh_ids_is_as_uuid4_makes_them() -> None:
    """An analytics batch's event ids come from one read of the random source: each a distinct version-4 UUID of
    the RFC 4122 variant, as ``uuid.uuid4()`` makes one."""
    ids = fresh_ids(500)
    assert len(ids) == len(set(ids)) == 500
    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
    assert fresh_ids(0) == [] and len(fresh_ids(1)) == 1


def test_an_analytics_gate_opens_exactly_when_the_consent_rules_let_a_batch_in() -> None:
    """The gate the stores apply (``AnalyticsGate.open_under``, and the SQL held to it by the contract tests) is the
    consent module's own rule: analytics allowed by the choice in force under the policy in effect (G3), no objection
    to analytics, no restriction (G4); every combination of the four."""
    from dreamina.domain.consent.preferences import _state
    from dreamina.ports.consent import AnalyticsGate
    from tests.contract.consent_rows import consent_record

    at = datetime(2026, 11, 30, tzinfo=UTC)
    latest_records = [None] + [
        consent_record(at, subject_id=uuid.uuid4(), analytics=analytics, policy_version=version)
        for analytics, version in itertools.product((True, False), (1, 2, 3))
    ]
    for latest, objected, restricted in itertools.product(latest_records, (True, False), (True, False)):
        gate = AnalyticsGate(latest=latest, objected=objected, restricted=restricted)
        allowed = _state(latest, 2).analytics_allowed and not objected and not restricted
        assert gate.open_under(2) is allowed, (latest, objected, restricted)
