"""Hostile JSON bodies are a client's mistake, never a 500: invalid UTF-8 inside a string and nesting too deep to
decode answer 400 problem+json on every JSON route, signed in or not."""

from __future__ import annotations

import pytest

from tests.http_client import AsyncTestClient

from .helpers import signed_in

INVALID_UTF8 = b'{"category":"other","subject":"Hello","message":"A long message here","reply_to":"\xff@example.com"}'
TOO_DEEP = b"[" * 10_000
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("body", [INVALID_UTF8, TOO_DEEP, b'{"functional": true, "analytics": "\xc3\x28"}'])
@pytest.mark.parametrize(
    ("method", "path", "signed"),
    [
        ("post", "/v1/support/tickets", False),
        ("post", "/v1/accounts", False),
        ("put", "/v1/consent", False),
        ("post", "/v1/analytics/events", False),
        ("post", "/v1/privacy/child-reports", False),
        ("post", "/v1/generations", True),
        ("post", "/v1/privacy/requests", True),
        ("patch", "/v1/me", True),
    ],
)
async def test_a_hostile_body_is_a_400_problem(
    client: AsyncTestClient, method: str, path: str, signed: bool, body: bytes
) -> None:
    headers = dict(JSON)
    if signed:
        headers.update(await signed_in(client, "hostile@example.com"))
    response = await getattr(client, method)(path, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "malformed_request"
