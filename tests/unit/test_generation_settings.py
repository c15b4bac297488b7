"""Generation settings: providers and queues need their credentials; limits must be sane; secrets are masked."""

from __future__ import annotations

import pytest

from dreamina.bootstrap import memory_database
from dreamina.settings import SettingsError, describe, load_settings


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DREAMINA_QUEUE": "saq"}, "DREAMINA_REDIS_URL"),
        ({"DREAMINA_IMAGE_PROVIDER": "openai"}, "DREAMINA_OPENAI_API_KEY"),
        ({"DREAMINA_IMAGE_PROVIDER": "replicate"}, "DREAMINA_REPLICATE_API_TOKEN"),
        ({"DREAMINA_VIDEO_PROVIDER": "runway"}, "DREAMINA_RUNWAY_API_KEY"),
        ({"DREAMINA_VIDEO_PROVIDER": "sora"}, "invalid setting"),
        ({"DREAMINA_SIGNED_URL_TTL_SECONDS": "0"}, "DREAMINA_SIGNED_URL_TTL_SECONDS"),
        ({"DREAMINA_MAX_UPLOAD_BYTES": "-1"}, "DREAMINA_MAX_UPLOAD_BYTES"),
    ],
)
def test_bad_generation_settings_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_defaults_are_the_embedded_profile_and_keys_are_masked() -> None:
    settings = load_settings({"DREAMINA_IMAGE_PROVIDER": "openai", "DREAMINA_OPENAI_API_KEY": "sk-secret"})
    assert (settings.video_provider, settings.queue, settings.signed_url_ttl_seconds) == ("offline", "in_process", 900)
    assert describe(settings)["openai_api_key"] == "***"


def test_swapping_a_provider_is_configuration_only(tmp_path: object) -> None:
    from dreamina.bootstrap import build_container
    from dreamina.ports.generation import GenerationKind
    from tests.e2e.conftest import test_overrides

    settings = load_settings(
        {
            "DREAMINA_DATA_DIR": str(tmp_path),
            "DREAMINA_IMAGE_PROVIDER": "replicate",
            "DREAMINA_REPLICATE_API_TOKEN": "r8_x",
            "DREAMINA_VIDEO_PROVIDER": "runway",
            "DREAMINA_RUNWAY_API_KEY": "key",
        }
    )

    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    assert container.generation.generations is not None
    names = {kind: p.name for kind, p in container.generation.generations.providers.items()}
    assert names == {GenerationKind.IMAGE: "replicate", GenerationKind.VIDEO: "runway"}
