"""Pure rules of the consent module: GPC parsing, address truncation, client traits, an analytics batch's ids."""

from __future__ import annotations

import uuid

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
