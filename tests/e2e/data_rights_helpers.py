"""Helpers for the data-rights HTTP tests."""

from __future__ import annotations

import re
from typing import Any

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .helpers import PASSWORD


def last_code(container: Container, email: str) -> str:
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    codes = [m for m in mailer.sent_to(email) if m.kind == "privacy_request_code"]
    assert codes, "no code was mailed"
    found = re.search(r"\b(\d{6})\b", codes[-1].body)
    assert found
    return found.group(1)


async def submit(
    client: AsyncTestClient, headers: dict[str, str], type: str, details: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type, **extra}
    if details is not None:
        body["details"] = details
    response = await client.post("/v1/privacy/requests", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return dict(response.json())


async def submit_proven(client: AsyncTestClient, headers: dict[str, str], type: str) -> dict[str, Any]:
    return await submit(client, headers, type, password=PASSWORD)
