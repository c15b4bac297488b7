"""Which processors the configuration hands personal data to (issue 16, finding 8): the record lists only them."""

from __future__ import annotations

import pytest

from dreamina.bootstrap import declared_data_map
from dreamina.settings import load_settings
from dreamina.wiring.privacy import processors_in_use
from tests.unit.test_settings import PRODUCTION


def test_the_embedded_profile_hands_nothing_to_anybody() -> None:
    assert processors_in_use(load_settings({}), wired=(None,)) == frozenset()


def test_production_adds_hosting_the_relay_and_the_object_store_to_what_the_adapters_send_to() -> None:
    in_use = processors_in_use(load_settings(PRODUCTION), wired=("stripe", None, "openai"))
    assert in_use == {"hosting", "email_delivery", "object_storage", "stripe", "openai"}


def test_the_configured_map_keeps_only_processors_in_use_everywhere() -> None:
    full = declared_data_map()
    cut = full.configured(frozenset({"stripe"}))
    assert [p.id for p in cut.processors] == ["stripe"]
    assert cut.stores.keys() == full.stores.keys() and cut.schedule == full.schedule
    named = {p for s in cut.stores.values() for f in s.fields.values() for p in f.processors}
    assert named | {p for prefix in cut.object_prefixes for p in prefix.processors} == {"stripe"}
    with pytest.raises(ValueError, match="undeclared processor: nobody"):
        full.configured(frozenset({"nobody"}))
