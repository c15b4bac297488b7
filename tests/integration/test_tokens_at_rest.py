"""G12, tokens at rest: no secret we hand out (bearer token, mailed link tokens, reset codes) is stored as issued.

Every table of SQLite and PostgreSQL is read raw, every column as text and bytes, after each kind of secret was
issued and before it was used; only hashes may be there. The same scan finds the account's id, so it is reading.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.sql.database import Database
from dreamina.bootstrap import Container, build_container, sql_database
from dreamina.domain.identity.registrations import SignUp
from dreamina.settings import load_settings

from ..e2e.conftest import test_overrides
from ..e2e.helpers import TOKEN_IN_LINK
from .test_erasure_residue import scan_tables

EMAIL, PASSWORD = "token.keeper@example.com", "correct horse battery staple"
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
async def wired(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Container, Database]]:
    database = sql_database(database_url, pooled=False)
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=database.unit_of_work, **test_overrides()
    )
    await container.start()
    try:
        yield container, database
    finally:
        await container.aclose()
        await database.dispose()


async def test_no_issued_secret_is_stored_as_issued(wired: tuple[Container, Database]) -> None:
    container, database = wired
    identity = container.identity
    subject = await identity.registrations.sign_up(SignUp(EMAIL, PASSWORD, date(1990, 4, 1), "DE", None, 1, None))
    bearer = (await identity.sessions.issue_token(EMAIL, PASSWORD)).access_token
    principal = await identity.sessions.authenticate(bearer)
    await identity.email_changes.request(principal, "token.keeper.new@example.com", PASSWORD)
    await container.infra.mail.deliver_due()
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    links = [m for m in mailer.sent if TOKEN_IN_LINK.search(m.body)]
    secrets = {"bearer token": bearer}
    secrets |= {f"{m.kind} link token": TOKEN_IN_LINK.search(m.body).group(1) for m in links}  # type: ignore[union-attr]
    assert {"bearer token", "verify_email link token", "email_change_confirm link token"} <= set(secrets)

    found = await scan_tables(database, {what: value.encode() for what, value in secrets.items()})
    assert found == []
    assert await scan_tables(database, {"id": subject.bytes, "id text": str(subject).encode()})  # the scan reads
