"""Finding 8 of the account-security issue: every request that used to answer 500 after its change was saved (the
mail failed inside it) now answers as it should, on memory, SQLite and PostgreSQL, whether the relay is down or the
stored address is one no relay takes (a row from before the address rule); the mail waits in the outbox.

The input side (sign-up, email change, ticket reply-to, child-report contact refuse unmailable addresses with 422
before anything is stored; IDN domains mailed in ASCII) is proven in ``test_email_addresses.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, build_container
from dreamina.domain.identity.accounts import email_index_of
from dreamina.ports.mail import MailMessage
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient

from .conftest import UNTHROTTLED, app_for, test_overrides
from .helpers import PASSWORD, signed_in

LEGACY_ADDRESS = "x,y@example.com"  # what PATCH /v1/me stored before the address rule


class _Relay(InMemoryMailer):
    """A relay that refuses every message while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def send(self, message: MailMessage) -> None:
        if self.down:
            raise ConnectionError("relay down")
        await super().send(message)


@pytest.fixture(params=["relay_down", "unmailable_stored_address"])
def failure(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def world(uow_factory: Any, tmp_path: Path) -> AsyncIterator[tuple[Container, AsyncTestClient, _Relay]]:
    relay = _Relay()
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    container = build_container(settings, uow=uow_factory, **{**test_overrides(), "mailer": relay})
    async with AsyncTestClient(app=app_for(container)) as client:
        yield container, client, relay
    await container.aclose()


async def _break_mail(container: Container, relay: _Relay, subject: UUID, failure: str) -> None:
    if failure == "relay_down":
        relay.down = True
        return
    async with container.infra.uow() as uow:  # a row written before the address rule existed
        account = await uow.accounts.get(subject)
        assert account is not None
        sealed = await container.infra.keyrings(uow.subject_keys).seal(subject, "email", LEGACY_ADDRESS)
        account.correct_email(email_index_of(container.infra.vault, LEGACY_ADDRESS), sealed, account.updated_at)
        account.verify_email(account.updated_at)
        await uow.accounts.update(account)
        await uow.commit()


async def _subject(client: AsyncTestClient, email: str) -> tuple[dict[str, str], UUID]:
    headers = await signed_in(client, email)
    return headers, UUID((await client.get("/v1/me", headers=headers)).json()["id"])


async def test_export_and_erasure_answer_202_and_their_mail_waits(
    failure: str, world: tuple[Container, AsyncTestClient, _Relay]
) -> None:
    container, client, relay = world
    headers, subject = await _subject(client, "ada@example.com")
    await _break_mail(container, relay, subject, failure)

    export = await client.post("/v1/privacy/requests", headers=headers, json={"type": "export", "details": {}})
    assert export.status_code == 202, export.text
    assert export.json()["status"] == "awaiting_verification"  # saved, and its code is queued, not lost
    erasure = await client.post(
        "/v1/privacy/requests", headers=headers, json={"type": "erasure", "details": {}, "password": PASSWORD}
    )
    assert erasure.status_code == 202, erasure.text
    assert erasure.json()["status"] == "scheduled"
    listed = (await client.get("/v1/privacy/requests", headers=headers)).json()
    assert {r["type"] for r in listed["requests"]} == {"export", "erasure"}
    assert await container.infra.mail.count_for_subject(subject) >= 2  # the code and the erasure notice wait


async def test_staff_reject_and_extend_answer_200(
    failure: str, world: tuple[Container, AsyncTestClient, _Relay]
) -> None:
    container, client, relay = world
    officer = await signed_in(client, "officer@example.com")
    await container.identity.staff.grant("officer@example.com", "privacy_officer")
    headers, subject = await _subject(client, "bia@example.com")
    rectify = {"type": "rectification", "details": {"free_text": "my name is spelt wrong"}}
    first = (await client.post("/v1/privacy/requests", headers=headers, json=rectify)).json()
    second = (await client.post("/v1/privacy/requests", headers=headers, json={"type": "access"})).json()
    await _break_mail(container, relay, subject, failure)

    admin = "/v1/admin/privacy/requests"
    extended = await client.post(f"{admin}/{first['id']}/extend", headers=officer, json={"reason": "complex"})
    assert extended.status_code == 200, extended.text
    rejected = await client.post(f"{admin}/{first['id']}/reject", headers=officer, json={"reason": "cannot verify"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert second["id"]


async def test_a_staff_reply_to_an_unreachable_reply_to_answers_200(
    failure: str, world: tuple[Container, AsyncTestClient, _Relay]
) -> None:
    container, client, relay = world
    support = await signed_in(client, "desk@example.com")
    await container.identity.staff.grant("desk@example.com", "support")
    headers, subject = await _subject(client, "asker@example.com")
    ticket = {"category": "billing", "subject": "Invoice", "message": "Where is my invoice, please?"}
    created = await client.post("/v1/support/tickets", headers=headers, json=ticket)
    assert created.status_code == 201, created.text
    await _break_mail(container, relay, subject, failure)
    reply = await client.post(
        f"/v1/admin/support/tickets/{created.json()['id']}/reply",
        headers=support,
        json={"message": "Attached.", "close": False},
    )
    assert reply.status_code in (200, 201), reply.text
    assert await container.infra.mail.count_for_subject(subject) == 1  # recorded as answered; the mail waits
