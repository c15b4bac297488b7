"""Per-client limits: sign-up and sign-in have a tight budget, everything else a wide one; 429 with Retry-After,
and the limiter's store never holds the client's address."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from dreamina.adapters.rate_limit_counters import MemoryCounters
from dreamina.bootstrap import build_container, memory_database
from dreamina.settings import SettingsError, load_settings
from tests.http_client import AsyncTestClient

from .conftest import app_for, test_overrides
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
    app = app_for(container)
    async with AsyncTestClient(app=app) as client:
        statuses = [
            (await client.post("/v1/accounts", json=sign_up_body(f"r{i}@example.com"))).status_code for i in range(3)
        ]
        assert statuses == [201, 201, 201]
        limited = await client.post("/v1/auth/token", json={"email": "r0@example.com", "password": "whatever-pw"})
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert limited.json()["code"] == "too_many_requests"
        # a sliding minute: the wait can reach into the next one (this minute's count still weighs on it)
        assert 1 <= int(limited.headers["retry-after"]) <= 120
        assert limited.headers["ratelimit-limit"] == "3" and limited.headers["ratelimit-remaining"] == "0"
        # The general budget is separate and still open.
        general = [(await client.get("/v1/privacy/processors")).status_code for _ in range(6)]
        assert general == [200] * 5 + [429]
        # Health checks are never limited.
        assert (await client.get("/health")).status_code == 200

    counters = app.state.rate_limit_counters
    assert isinstance(counters, MemoryCounters)
    keys = counters.keys()
    assert {key.split(":")[0] for key in keys} == {"sensitive", "general"}
    assert not any("testclient" in key or "127.0.0.1" in key for key in keys)
    await container.aclose()


async def test_a_429_is_logged_as_a_429(tmp_path: Path, logs: io.StringIO) -> None:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_RATE_LIMIT_GENERAL_PER_MINUTE": "1"})
    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    async with AsyncTestClient(app=app_for(container)) as client:
        assert [(await client.get("/v1/privacy/processors")).status_code for _ in range(2)] == [200, 429]
    await container.aclose()
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    statuses = [line["status"] for line in lines if line.get("event") == "request"]
    assert statuses == [200, 429]
    assert not any(line.get("level") == "error" for line in lines)


async def _processors_statuses(
    trusted: str, peer: str, headers_per_request: list[dict[str, str]], tmp_path: Path
) -> list[int]:
    settings = load_settings(
        {
            "DREAMINA_DATA_DIR": str(tmp_path),
            "DREAMINA_RATE_LIMIT_GENERAL_PER_MINUTE": "1",
            "DREAMINA_TRUSTED_PROXIES": trusted,
        }
    )
    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    transport = httpx.ASGITransport(app=app_for(container), client=(peer, 4711))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [(await client.get("/v1/privacy/processors", headers=h)).status_code for h in headers_per_request]
    finally:
        await container.aclose()


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(tmp_path: Path) -> None:
    """Issue 13: behind a reverse proxy every client shared the proxy's budget. With the proxy trusted, the client
    named by ``Forwarded`` / ``X-Forwarded-For`` is counted, so two clients each get their own one request."""
    clients = [
        {"X-Forwarded-For": "203.0.113.7"},
        {"Forwarded": 'for="[2001:db8::1]:4711";proto=https'},
        {"X-Forwarded-For": "203.0.113.7"},
        {"Forwarded": "for=198.51.100.2, for=10.0.0.9"},  # through two proxies of ours: the client is the first
    ]
    assert await _processors_statuses("10.0.0.0/8", "10.0.0.5", clients, tmp_path) == [200, 200, 429, 200]


async def test_the_forwarded_header_of_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    """A client that sends its own X-Forwarded-For cannot buy itself a fresh budget per request."""
    spoofed = [{"X-Forwarded-For": f"198.51.100.{n}"} for n in range(3)]
    assert await _processors_statuses("10.0.0.0/8", "192.0.2.44", spoofed, tmp_path) == [200, 429, 429]
    # and behind our proxy, the hops the client wrote itself (left of the proxy's own entry) are not believed
    chained = [{"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.9"} for n in range(3)]
    assert await _processors_statuses("10.0.0.5", "10.0.0.5", chained, tmp_path) == [200, 429, 429]


def test_trusted_proxies_must_be_addresses_or_networks(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_TRUSTED_PROXIES": "proxy.internal"})
