"""``dreamina marketing create --staff EMAIL --subject TEXT --body-file PATH``, ``status ID`` and ``send-due``: an admin
creates a campaign from the server and it reaches exactly the consenting subject, as an outbox file carrying the
RFC 8058 headers.

Runs the real command against SQLite and PostgreSQL (each call builds its own container from the settings).
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

import pytest

from dreamina.adapters.mail.outbox import read_outbox
from dreamina.bootstrap import build_container
from dreamina.domain.consent.preferences import Choices, Requester
from dreamina.domain.identity.registrations import SignUp
from dreamina.entrypoints.cli import main
from dreamina.ports.consent import ConsentMethod
from dreamina.settings import load_settings

PASSWORD = "a long enough password"


def _accounts() -> None:
    """An admin, a support member and two readers with verified addresses; one reader consents to marketing."""

    async def run() -> None:
        container = build_container(load_settings())
        try:
            await container.start()
            identity = container.identity
            for email in ("boss@example.com", "helper@example.com", "fan@example.com", "quiet@example.com"):
                await identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
                token = await identity.sessions.issue_token(email, PASSWORD)
                subject = (await identity.sessions.authenticate(token.access_token)).account_id
                async with container.infra.uow() as uow:
                    account = await uow.accounts.get(subject)
                    assert account is not None
                    account.verify_email(container.infra.clock.now())
                    await uow.accounts.update(account)
                    await uow.commit()
                if email == "fan@example.com":
                    await container.consent.choices.choose(
                        Requester(subject_id=subject), Choices(marketing=True), ConsentMethod.API
                    )
        finally:
            await container.aclose()

    asyncio.run(run())


def test_an_admin_creates_a_campaign_from_the_server_and_the_worker_sends_it(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DREAMINA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DREAMINA_DATABASE_URL", database_url)
    monkeypatch.setenv("DREAMINA_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("DREAMINA_ARGON2_TIME_COST", "1")
    _accounts()
    assert main(["staff", "create", "boss@example.com", "admin"]) == 0
    assert main(["staff", "create", "helper@example.com", "support"]) == 0
    body = tmp_path / "body.txt"
    body.write_text("Three new styles are live.\n", encoding="utf-8")
    capsys.readouterr()

    def create(staff: str, path: Path = body, subject: str = "New styles") -> int:
        return main(["marketing", "create", "--staff", staff, "--subject", subject, "--body-file", str(path)])

    assert create("helper@example.com") == 1  # support staff send no marketing
    assert "admin role" in capsys.readouterr().err
    assert create("boss@example.com", tmp_path / "missing.txt") == 1
    assert "cannot read the body" in capsys.readouterr().err
    assert create("boss@example.com", subject="two\nlines") == 1
    assert "subject_line" in capsys.readouterr().err

    assert create("boss@example.com") == 0
    found = re.search(r"campaign ([0-9a-f-]{36}) created", capsys.readouterr().out)
    assert found is not None
    assert main(["marketing", "status", found.group(1)]) == 0
    assert "pending: 0 sent, 0 skipped" in capsys.readouterr().out

    assert main(["privacy-worker", "--once"]) == 0
    assert main(["marketing", "status", found.group(1)]) == 0
    assert "done: 1 sent, 3 skipped" in capsys.readouterr().out
    [mail] = [m for m in read_outbox(tmp_path / "outbox") if m.kind == "marketing"]
    assert (mail.to, mail.subject) == ("fan@example.com", "New styles")
    assert mail.list_unsubscribe is not None and mail.list_unsubscribe in mail.body
    assert main(["marketing", "send-due"]) == 0
    assert "queued 0 marketing mails" in capsys.readouterr().out
