"""One address rule at every input (finding 8 of the account-security issue): what our mail cannot reach is refused
with 422 before anything is stored, on memory, SQLite and PostgreSQL; internationalised domains are mailed in ASCII."""

from __future__ import annotations

from typing import Any

import pytest

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .helpers import sign_up_body, signed_in

UNMAILABLE = ["a,b@example.com", '"x"@example.com', "<a@example.com>", "a;b@example.com", "ä@example.com", "a@x.test"]


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid_input", field)


@pytest.mark.parametrize("address", UNMAILABLE)
async def test_sign_up_refuses_an_unmailable_address_and_stores_nothing(
    address: str, client: AsyncTestClient, container: Container, stored_rows: Any
) -> None:
    before = await stored_rows()
    _refused(await client.post("/v1/accounts", json=sign_up_body(address)), "email")
    assert await stored_rows() == before
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer) and mailer.sent == []


async def test_every_other_input_refuses_them_too(client: AsyncTestClient, stored_rows: Any) -> None:
    headers = await signed_in(client, "ada@example.com")
    before = await stored_rows()
    for address in UNMAILABLE:
        _refused(await client.patch("/v1/me", json={"email": address}, headers=headers), "email")
        ticket = {"category": "other", "subject": "Hello", "message": "A question about my data", "reply_to": address}
        _refused(await client.post("/v1/support/tickets", json=ticket), "reply_to")
        report = {"email": "ada@example.com", "contact": address, "relationship": "parent"}
        _refused(await client.post("/v1/privacy/child-reports", json=report), "contact")
    assert await stored_rows() == before


async def test_an_internationalised_domain_is_accepted_and_mailed_in_ascii(
    client: AsyncTestClient, container: Container
) -> None:
    assert (await client.post("/v1/accounts", json=sign_up_body("Jorg@München.de"))).status_code == 201
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    assert [(m.to, m.kind) for m in mailer.sent] == [("jorg@xn--mnchen-3ya.de", "verify_email")]
    token = await client.post(
        "/v1/auth/token", json={"email": "jorg@münchen.de", "password": sign_up_body("x")["password"]}
    )
    assert token.status_code == 200
