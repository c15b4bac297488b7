"""The served app moves what start-up built out of the garbage collector's generations (``gc.freeze``): a full
collection then no longer walks every route, module and the container on each run, the pauses that set the p99 of
the hot paths (bench/http_vs_bare.py: ``GET /v1/me`` p99 150 -> 68 ms, ``GET /v1/generations`` 226 -> 125 ms in
back-to-back runs). An app over a caller's container (the tests', built and dropped many times a process) leaves the
collector alone: frozen objects are never freed."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

from dreamina.entrypoints.http.app import create_app
from dreamina.settings import Settings, load_settings
from tests.http_client import AsyncTestClient


def _settings(tmp_path: Path, template: Path) -> Settings:
    """The embedded profile over a migrated SQLite file of the test's own."""
    database = tmp_path / "db" / "dreamina.db"
    database.parent.mkdir()
    shutil.copyfile(template, database)
    return load_settings(
        {"DREAMINA_DATA_DIR": str(tmp_path / "data"), "DREAMINA_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    )


async def test_the_served_app_freezes_what_start_up_built(tmp_path: Path, _sqlite_template: Path) -> None:
    gc.unfreeze()
    try:
        app = create_app(_settings(tmp_path, _sqlite_template))
        assert gc.get_freeze_count() == 0
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/health")).status_code == 200
            assert gc.get_freeze_count() > 100_000  # the app, the container and every module loaded so far
    finally:
        gc.unfreeze()


async def test_an_app_over_a_callers_container_leaves_the_collector_alone(
    tmp_path: Path, _sqlite_template: Path
) -> None:
    from dreamina.bootstrap import build_container

    gc.unfreeze()
    container = build_container(_settings(tmp_path, _sqlite_template))
    try:
        async with AsyncTestClient(app=create_app(container=container)) as client:
            assert (await client.get("/health")).status_code == 200
            assert gc.get_freeze_count() == 0
    finally:
        await container.aclose()
