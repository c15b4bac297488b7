"""Shared request builders for the HTTP tests."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

PASSWORD = "correct horse battery staple"


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


async def signed_in(client: AsyncTestClient, email: str, **overrides: Any) -> dict[str, str]:
    created = await client.post("/v1/accounts", json=sign_up_body(email, **overrides))
    assert created.status_code == 201, created.text
    token = await client.post("/v1/auth/token", json={"email": email, "password": overrides.get("password", PASSWORD)})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}
