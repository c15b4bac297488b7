"""The app is built from :data:`APP_SETTINGS` alone: the tests keep one app per process and those settings, and put
each test's container (with its own data directory, database, vendor emulators) in it (``tests/e2e/conftest.py``,
``app_for``). A setting read while building the app but missing from ``APP_SETTINGS`` would leak one test's
configuration into the next; this test records what ``create_app`` reads."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dreamina.entrypoints.http.app import APP_SETTINGS, create_app
from dreamina.settings import Settings, load_settings


class _Recording:
    """The settings, with every field the app reads written down."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._settings, name)


def test_building_the_app_reads_only_the_app_settings(tmp_path: Path) -> None:
    settings = _Recording(load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}))
    create_app(container=SimpleNamespace(settings=settings))  # type: ignore[arg-type]
    assert settings.read, "nothing recorded: the app no longer reads its settings through the container"
    assert settings.read <= set(APP_SETTINGS), f"add to APP_SETTINGS: {sorted(settings.read - set(APP_SETTINGS))}"


def test_every_app_setting_is_a_setting() -> None:
    assert set(APP_SETTINGS) <= set(Settings.__struct_fields__)
