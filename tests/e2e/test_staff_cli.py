"""Staff roles come from the command line only: ``dreamina staff create EMAIL ROLE`` on an existing account."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from dreamina.bootstrap import build_container
from dreamina.domain.identity.registrations import SignUp
from dreamina.entrypoints.cli import main
from dreamina.settings import load_settings


def test_staff_create_list_and_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DREAMINA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DREAMINA_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("DREAMINA_ARGON2_TIME_COST", "1")
    assert main(["db", "upgrade"]) == 0

    async def sign_up() -> None:
        container = build_container(load_settings())
        try:
            await container.start()
            await container.identity.registrations.sign_up(
                SignUp("staffer@example.com", "a long enough password", date(1990, 1, 1), "DE", None, 1)
            )
        finally:
            await container.aclose()

    asyncio.run(sign_up())
    assert main(["staff", "create", "nobody@example.com", "admin"]) == 1
    assert main(["staff", "create", "staffer@example.com", "privacy_officer"]) == 0
    capsys.readouterr()
    assert main(["staff", "list"]) == 0
    assert " privacy_officer since " in capsys.readouterr().out
    assert main(["staff", "revoke", "staffer@example.com"]) == 0
    assert main(["staff", "list"]) == 0
    assert capsys.readouterr().out.strip().endswith("revoked")
