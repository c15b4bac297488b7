"""An outage of a dependency answers 503 with ``Retry-After``, never a 500 (issue 13, finding 11).

Before: the database refusing connections answered 1,108 x 500 (``ConnectionRefusedError``, ``DBAPIError``)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.adapters.sql.database import upgrade
from dreamina.bootstrap import build_container
from dreamina.settings import load_settings

from .conftest import UNTHROTTLED, app_for
from .helpers import sign_up_body


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


@pytest.fixture
async def client_without_database(tmp_path: Path) -> Any:
    url = f"postgresql+asyncpg://dreamina:dreamina@127.0.0.1:{_closed_port()}/dreamina"
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_DATABASE_URL": url, **UNTHROTTLED})
    container = build_container(settings, mailer=InMemoryMailer(), passwords=Argon2PasswordHasher.fast())
    transport = httpx.ASGITransport(app=app_for(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await container.aclose()


@pytest.mark.parametrize(
    ("method", "path", "body", "authorization"),
    [
        ("POST", "/v1/accounts", sign_up_body("down@example.com"), None),
        ("POST", "/v1/auth/token", {"email": "down@example.com", "password": "whatever it is"}, None),
        ("GET", "/v1/me", None, "Bearer some-token"),
        ("GET", "/v1/privacy/policy", None, None),
        ("PUT", "/v1/consent", {"functional": True, "analytics": False, "marketing": False}, None),
        (
            "POST",
            "/v1/support/tickets",
            {
                "category": "privacy",
                "subject": "A question",
                "message": "hello there, a question about my data",
                "reply_to": "a@example.com",
            },
            None,
        ),
    ],
)
async def test_a_database_refusing_connections_answers_503_with_retry_after(
    client_without_database: httpx.AsyncClient, method: str, path: str, body: Any, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client_without_database.request(method, path, json=body, headers=headers)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "busy"
    assert int(response.headers["Retry-After"]) >= 1
    # the published contract says so (issue 16 finding 5): 503 busy, with Retry-After, on this operation
    documented = (await client_without_database.get("/schema/openapi.json")).json()["paths"][path][method.lower()]
    assert "busy" in documented["responses"]["503"]["content"]["application/problem+json"]["examples"]
    assert "Retry-After" in documented["responses"]["503"]["headers"]


async def test_ready_says_the_database_is_down_and_health_says_the_process_lives(
    client_without_database: httpx.AsyncClient,
) -> None:
    assert (await client_without_database.get("/health")).json() == {"status": "ok"}  # liveness: do not restart
    response = await client_without_database.get("/ready")  # readiness: send no traffic here now
    assert response.status_code == 503 and response.json()["database"] == "unavailable"


@pytest.fixture
async def client_without_redis(tmp_path: Path, logs: Any) -> Any:
    settings = load_settings(
        {"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"}
    )
    await upgrade(settings.resolved_database_url)
    container = build_container(settings, mailer=InMemoryMailer(), passwords=Argon2PasswordHasher.fast())
    await container.start()
    transport = httpx.ASGITransport(app=app_for(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await container.aclose()


async def test_redis_down_the_per_client_budgets_fail_open_and_the_secret_throttle_fails_closed(
    client_without_redis: httpx.AsyncClient, logs: Any
) -> None:
    """Before: Redis down answered 500 on every route. Now the per-client budgets let requests through (logged);
    a check of a secret, which must be counted before it is made, answers 503 with Retry-After instead of 500."""
    client = client_without_redis
    assert (await client.get("/v1/privacy/processors")).status_code == 200
    assert (await client.post("/v1/accounts", json=sign_up_body("redis.down@example.com"))).status_code == 201
    refused = await client.post(
        "/v1/auth/token", json={"email": "redis.down@example.com", "password": "correct horse battery staple"}
    )
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "busy" and int(refused.headers["Retry-After"]) >= 1
    assert "rate_limit_store_unavailable" in logs.getvalue()
    ready = await client.get("/ready")
    assert ready.status_code == 503 and ready.json()["redis"] == "unavailable" and ready.json()["database"] == "ok"
