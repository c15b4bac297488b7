"""The moderation settings: defaults, what a configuration refuses, and the moderator each one wires."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamina.adapters.moderation.offline import OfflineModerator
from dreamina.adapters.moderation.openai import OpenAIModerator
from dreamina.settings import SettingsError, load_settings
from dreamina.wiring.generation import _moderator


def test_the_embedded_default_is_the_offline_moderator_refusing_nothing_five_in_a_day() -> None:
    settings = load_settings({})
    assert (settings.moderator, settings.moderation_terms_file, settings.moderation_hashes_file) == (
        "offline",
        None,
        None,
    )
    assert (settings.moderation_review_threshold, settings.moderation_review_window_hours) == (5, 24)
    assert isinstance(_moderator(settings), OfflineModerator)


def test_the_vendor_needs_its_key_and_then_is_wired() -> None:
    with pytest.raises(SettingsError, match="DREAMINA_OPENAI_API_KEY"):
        load_settings({"DREAMINA_MODERATOR": "openai"})
    settings = load_settings({"DREAMINA_MODERATOR": "openai", "DREAMINA_OPENAI_API_KEY": "sk-test"})
    moderator = _moderator(settings)
    assert isinstance(moderator, OpenAIModerator) and moderator.model == "omni-moderation-latest"


@pytest.mark.parametrize("name", ["DREAMINA_MODERATION_REVIEW_THRESHOLD", "DREAMINA_MODERATION_REVIEW_WINDOW_HOURS"])
def test_a_review_rule_must_be_positive(name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: "0"})


def test_the_hash_distance_is_bounded_and_the_files_are_read(tmp_path: Path) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("hate: some slur\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"0\.\.64"):
        _moderator(load_settings({"DREAMINA_MODERATION_HASH_DISTANCE": "65"}))
    wired = _moderator(load_settings({"DREAMINA_MODERATION_TERMS_FILE": str(terms)}))
    assert isinstance(wired, OfflineModerator) and [c for c, _ in wired._terms] == ["hate"]


async def test_the_hash_command_prints_lines_the_offline_moderator_refuses_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dreamina.entrypoints.cli import main
    from tests.contract.moderation_samples import bad_image, benign_image

    image = tmp_path / "known.png"
    image.write_bytes(bad_image())
    assert main(["moderation", "hash", "--category", "sexual/minors", str(image)]) == 0
    hashes = tmp_path / "hashes.txt"
    hashes.write_text(capsys.readouterr().out, encoding="utf-8")
    moderator = _moderator(load_settings({"DREAMINA_MODERATION_HASHES_FILE": str(hashes)}))
    assert (await moderator.check_image(bad_image(200, "JPEG"), "image/jpeg")).category == "sexual/minors"
    assert not (await moderator.check_image(benign_image(), "image/png")).refused


def test_production_wants_a_route_telling_the_vendor_of_erasures() -> None:
    from tests.unit.test_settings import PRODUCTION

    vendor = {**PRODUCTION, "DREAMINA_MODERATOR": "openai", "DREAMINA_OPENAI_API_KEY": "sk-test"}
    with pytest.raises(SettingsError, match="openai_moderation"):
        _moderator(load_settings(vendor))
    route = '{"openai_moderation": {"email": "privacy@openai.example"}}'
    assert isinstance(_moderator(load_settings({**vendor, "DREAMINA_PROCESSOR_ROUTES": route})), OpenAIModerator)
