"""Policy-change notices reach a real SMTP server (production profile) and the outbox (embedded profile)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.mail.outbox import OutboxMailer, read_outbox
from dreamina.adapters.mail.smtp import SmtpMailer
from dreamina.bootstrap import Container, build_container
from dreamina.ports.mail import MailMessage
from dreamina.settings import load_settings
from tests.contract.smtp_server import SmtpInbox, read_back, smtp_server
from tests.e2e.conftest import app_for, test_overrides
from tests.e2e.helpers import PASSWORD, TOKEN_IN_LINK, signed_in
from tests.e2e.test_policy_change_and_staff import NEW_TEXT
from tests.http_client import AsyncTestClient

__all__ = ["smtp_server"]  # the fixture


@pytest.fixture(params=["smtp", "outbox"])
async def delivery(
    request: pytest.FixtureRequest, uow_factory: Any, tmp_path: Path
) -> AsyncIterator[tuple[Container, Callable[[], list[MailMessage]]]]:
    overrides = test_overrides()
    if request.param == "smtp":
        inbox: SmtpInbox
        inbox, port = request.getfixturevalue("smtp_server")
        overrides["mailer"] = SmtpMailer(host="127.0.0.1", port=port, sender="no-reply@dreamina.test", start_tls=False)

        def delivered() -> list[MailMessage]:
            return [read_back(email) for _, _, email in inbox.received]

    else:
        outbox = tmp_path / "outbox"
        overrides["mailer"] = OutboxMailer(outbox)

        def delivered() -> list[MailMessage]:
            return read_outbox(outbox)

    container = build_container(load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=uow_factory, **overrides)
    yield container, delivered
    await container.aclose()


async def _verified(client: AsyncTestClient, delivered: Callable[[], list[MailMessage]], email: str) -> dict[str, str]:
    """Signed in, with the address verified through the link the real mailer delivered (policy notices go only to
    verified addresses)."""
    headers = await signed_in(client, email)
    [body] = [m.body for m in delivered() if m.to == email and m.kind == "verify_email"][-1:]
    found = TOKEN_IN_LINK.search(body)
    assert found is not None
    assert (await client.post("/v1/auth/verify-email", json={"token": found.group(1)})).status_code == 204
    return headers


async def test_notices_are_delivered_and_only_notified_subjects_accept_by_continued_use(
    delivery: tuple[Container, Callable[[], list[MailMessage]]],
) -> None:
    container, delivered = delivery
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    async with AsyncTestClient(app=app_for(container)) as client:
        await _verified(client, delivered, "reader@example.com")
        admin = await _verified(client, delivered, "boss@example.com")
        await container.identity.staff.grant("boss@example.com", "admin")
        effective = clock.now() + timedelta(days=30)
        published = await client.post(
            "/v1/admin/policy/versions", json={"text": NEW_TEXT, "effective_at": effective.isoformat()}, headers=admin
        )
        assert published.status_code == 201, published.text
        await container.consent.policy_changes.send_due_notices()  # the notice job
        notices = [m for m in delivered() if m.kind == "policy_change"]
        assert sorted(m.to for m in notices) == ["boss@example.com", "reader@example.com"]
        assert all(published.json()["content_sha256"] in m.body for m in notices)

        await signed_in(client, "newcomer@example.com")
        clock.advance(timedelta(days=31))
        for email, method in [("reader@example.com", "continued_use"), ("newcomer@example.com", "sign_up")]:
            token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            status = (await client.get("/v1/me/policy-status", headers=headers)).json()
            assert status["latest_acceptance"]["method"] == method, email
            assert status["accepted_current"] is (method == "continued_use"), email
