"""Per-client limits: sign-up and sign-in have a tight budget, everything else a wide one; 429 with Retry-After,
and the limiter's store never holds the client's address."""

from __future__ import annotations

import io
import json
from pathlib import Path

from litestar.stores.memory import MemoryStore
from litestar.testing import AsyncTestClient

from dreamina.bootstrap import build_container, memory_database
from dreamina.entrypoints.http.app import create_app
from dreamina.settings import load_settings

from .conftest import test_overrides
from .helpers import sign_up_body


async def test_sensitive_routes_are_limited_per_client(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DREAMINA_DATA_DIR": str(tmp_path),
            "DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE": "3",
            "DREAMINA_RATE_LIMIT_GENERAL_PER_MINUTE": "5",
        }
    )
    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    app = create_app(container=container)
    async with AsyncTestClient(app=app) as client:
        statuses = [
            (await client.post("/v1/accounts", json=sign_up_body(f"r{i}@example.com"))).status_code for i in range(3)
        ]
        assert statuses == [201, 201, 201]
        limited = await client.post("/v1/auth/token", json={"email": "r0@example.com", "password": "whatever-pw"})
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert limited.json()["code"] == "too_many_requests"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # The general budget is separate and still open.
        general = [(await client.get("/v1/privacy/processors")).status_code for _ in range(6)]
        assert general == [200] * 5 + [429]
        # Health checks are never limited.
        assert (await client.get("/health")).status_code == 200

    for name in ("rate_limit_sensitive", "rate_limit_general"):
        store = app.stores.get(name)
        assert isinstance(store, MemoryStore)
        keys = list(store._store)  # the only way to see what a MemoryStore holds
        assert keys
        assert not any("testclient" in key or "127.0.0.1" in key for key in keys)
    await container.aclose()


async def test_a_429_is_logged_as_a_429(tmp_path: Path, logs: io.StringIO) -> None:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_RATE_LIMIT_GENERAL_PER_MINUTE": "1"})
    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    async with AsyncTestClient(app=create_app(container=container)) as client:
        assert [(await client.get("/v1/privacy/processors")).status_code for _ in range(2)] == [200, 429]
    await container.aclose()
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    statuses = [line["status"] for line in lines if line.get("event") == "request"]
    assert statuses == [200, 429]
    assert not any(line.get("level") == "error" for line in lines)
