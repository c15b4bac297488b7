"""Item 8: every declared store and object prefix states how it is exported and erased, by exactly one holder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container, declared_data_map, memory_database
from dreamina.domain.data_rights.completeness import coverage_gaps
from dreamina.domain.privacy.datamap import ObjectPrefixDeclaration
from dreamina.domain.privacy.vocabulary import DataCategory, Purpose, RetentionRule
from dreamina.settings import load_settings

DATA_MAP = declared_data_map()


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}),
        uow=memory_database().unit_of_work,
        passwords=Argon2PasswordHasher.fast(),
    )


def test_every_store_and_prefix_is_claimed_exactly_once(container: Container) -> None:
    assert coverage_gaps(container.privacy.data_map, container.data_rights.holders) == []


def test_a_missing_holder_is_a_gap(container: Container) -> None:
    without_identity = [h for h in container.data_rights.holders if h.name != "identity"]
    gaps = coverage_gaps(container.privacy.data_map, without_identity)
    assert "store accounts is claimed by no holder: nobody exports or erases it" in gaps
    assert "store audit_events is claimed by no holder: nobody exports or erases it" in gaps


def test_a_new_prefix_nobody_claims_is_a_gap(container: Container) -> None:
    grown = replace(
        DATA_MAP,
        object_prefixes=(
            *DATA_MAP.object_prefixes,
            ObjectPrefixDeclaration(
                "thumbnails/", DataCategory.CONTENT, "previews", (Purpose.SERVICE,), RetentionRule("x")
            ),
        ),
    )
    assert coverage_gaps(grown, container.data_rights.holders) == [
        "prefix thumbnails/ is claimed by no holder: nobody exports or erases it"
    ]


def test_a_double_claim_is_a_gap(container: Container) -> None:
    first = container.data_rights.holders[0]
    holders = [*container.data_rights.holders, first]
    gaps = coverage_gaps(DATA_MAP, holders)
    assert any(f"claimed by several holders: {first.name}, {first.name}" in g for g in gaps)


def test_legal_holds_must_be_declared_pseudonymised() -> None:
    from dreamina.ports.data_rights import Coverage

    class Holder:
        name = "sloppy"
        coverage = (Coverage("store", "accounts", "account.json", "kept", pseudonymised_legal_hold=True),)

    gaps = coverage_gaps(DATA_MAP, [Holder()])  # type: ignore[list-item]
    assert any("accounts is kept as a legal hold" in g for g in gaps)
