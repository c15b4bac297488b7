"""G12, tokens at rest: no secret we hand out (the bearer token, the mailed link tokens) is stored as issued.

Every table of SQLite and PostgreSQL is read raw, every column as text and bytes, after each kind of secret was
issued and before it was used; only hashes may be there. The same scan finds the account's id, so it is reading.
"""

from __future__ import annotations

from datetime import date

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.sql.database import Database
from dreamina.bootstrap import Container
from dreamina.domain.identity.registrations import SignUp

from ..e2e.helpers import TOKEN_IN_LINK
from .test_erasure_residue import scan_tables, wired  # noqa: F401 - the residue test's service over SQL

EMAIL, PASSWORD = "token.keeper@example.com", "correct horse battery staple"


async def test_no_issued_secret_is_stored_as_issued(
    wired: tuple[Container, Database],  # noqa: F811 - the residue test's fixture
) -> None:
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
