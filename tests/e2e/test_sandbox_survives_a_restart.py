"""The payment sandbox keeps its checkout sessions in the database (finding 16): a checkout opened before a restart
is paid after it, on a fresh container and app over the same SQLite file, and credited once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dreamina.adapters.crypto import LocalFileKeyVault
from dreamina.adapters.sql.database import upgrade
from dreamina.bootstrap import Container, build_container, sql_database
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient

from .billing_helpers import balance, pay, start_checkout
from .conftest import UNTHROTTLED, app_for, test_overrides
from .helpers import PASSWORD, signed_in


def _process(tmp_path: Path, url: str, overrides: dict[str, Any]) -> Container:
    """One run of the embedded process over the file: its own database engine, container and app."""
    database = sql_database(url)
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    container = build_container(settings, uow=database.unit_of_work, database_ping=database.ping, **overrides)
    container.lifecycle.closers.append(database.dispose)
    return container


async def test_a_checkout_opened_before_a_restart_is_paid_after_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.sqlite3'}"
    await upgrade(url)
    overrides = test_overrides()
    overrides["vault"] = LocalFileKeyVault(tmp_path / "master.key")  # the same master key after the restart

    before = _process(tmp_path, url, overrides)
    async with AsyncTestClient(app=app_for(before)) as client:
        auth = await signed_in(client, "patient.buyer@example.com")
        page = await start_checkout(client, auth)
        assert (await client.get(page)).status_code == 200
    await before.aclose()

    after = _process(tmp_path, url, {**overrides, "mailer": type(overrides["mailer"])()})
    async with AsyncTestClient(app=app_for(after)) as client:
        assert (await client.get(page)).status_code == 200  # the session is still open
        assert await pay(client, page, "4242 4242 4242 4242") == 200
        token = await client.post("/v1/auth/token", json={"email": "patient.buyer@example.com", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert await balance(client, auth) == 140
        assert (await client.get(page)).status_code == 410  # complete, also for the next process
    await after.aclose()
