"""Shared request builders for the HTTP tests."""

from __future__ import annotations

import re
from typing import Any

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.domain.privacy.validation import deliverable_email, normalise_email
from tests.http_client import AsyncTestClient

PASSWORD = "correct horse battery staple"
TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_-]+)")


def sign_up_body(email: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": email,
        "password": PASSWORD,
        "birth_date": "1990-04-01",
        "country": "DE",
        "accept_policy_version": 1,
    }
    body.update(overrides)
    return body


def mailed_token(client: AsyncTestClient, email: str, kind: str) -> str:
    """The token in the last mail of ``kind`` the in-memory mailer sent to ``email``."""
    mailer = client.app.state.container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    to = deliverable_email(normalise_email(email))
    bodies = [m.body for m in mailer.sent if m.to == to and m.kind == kind]
    assert bodies, f"no {kind} mail to {to}"
    found = TOKEN_IN_LINK.search(bodies[-1])
    assert found is not None
    return found.group(1)


async def verify_by_mail(container: Any, email: str) -> None:
    """Follow the verification link mailed to ``email``, through the use case (tests without an HTTP client)."""
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    to = deliverable_email(normalise_email(email))
    [body] = [m.body for m in mailer.sent if m.to == to and m.kind == "verify_email"][-1:]
    found = TOKEN_IN_LINK.search(body)
    assert found is not None
    await container.identity.verification.verify(found.group(1))


async def verify_address(client: AsyncTestClient, email: str) -> None:
    """Follow the verification link mailed to ``email`` at sign-up."""
    verified = await client.post("/v1/auth/verify-email", json={"token": mailed_token(client, email, "verify_email")})
    assert verified.status_code == 204, verified.text


async def signed_in(client: AsyncTestClient, email: str, *, verified: bool = True, **overrides: Any) -> dict[str, str]:
    """Sign up (with a verified address unless ``verified=False``) and sign in; the bearer header."""
    created = await client.post("/v1/accounts", json=sign_up_body(email, **overrides))
    assert created.status_code == 201, created.text
    if verified and isinstance(client.app.state.container.infra.mailer, InMemoryMailer):
        await verify_address(client, email)
    token = await client.post("/v1/auth/token", json={"email": email, "password": overrides.get("password", PASSWORD)})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}
