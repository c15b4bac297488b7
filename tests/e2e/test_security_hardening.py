"""G12 at the HTTP edge: strict CORS from configuration, security headers on every response (a CSP on the only
HTML served, the API docs), and the per-client budgets on uploads, generations and one-time codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dreamina.bootstrap import build_container, memory_database
from dreamina.entrypoints.http.rate_limits import BUDGETS, CONTENT, GENERAL, SENSITIVE, budget_of
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient

from .conftest import UNTHROTTLED, app_for, test_overrides
from .helpers import signed_in
from .test_generation_api import png_bytes


async def _client(tmp_path: Path, **env: str) -> Any:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED, **env})
    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    return container, AsyncTestClient(app=app_for(container))


async def test_cors_allows_only_the_configured_origins(tmp_path: Path) -> None:
    container, client = await _client(tmp_path, DREAMINA_CORS_ALLOWED_ORIGINS="https://app.dreamina.test")
    async with client:
        preflight = await client.options(
            "/v1/me",
            headers={
                "Origin": "https://app.dreamina.test",
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == "https://app.dreamina.test"
        assert "PATCH" in preflight.headers["access-control-allow-methods"]
        # credentials (the consent banner's device cookie) for a configured origin: test_cors_credentials.py
        assert preflight.headers["access-control-allow-credentials"] == "true"

        simple = await client.get("/v1/privacy/processors", headers={"Origin": "https://app.dreamina.test"})
        assert simple.headers["access-control-allow-origin"] == "https://app.dreamina.test"

        for stranger in ("https://evil.example", "https://app.dreamina.test.evil.example", "null"):
            refused = await client.options(
                "/v1/me", headers={"Origin": stranger, "Access-Control-Request-Method": "GET"}
            )
            assert refused.status_code == 400
            assert "access-control-allow-origin" not in refused.headers
            read = await client.get("/v1/privacy/processors", headers={"Origin": stranger})
            assert "access-control-allow-origin" not in read.headers
        wrong_header = await client.options(
            "/v1/me",
            headers={
                "Origin": "https://app.dreamina.test",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "x-custom-thing",
            },
        )
        assert wrong_header.status_code == 400
    await container.aclose()


async def test_without_configured_origins_no_cross_origin_read_is_allowed(tmp_path: Path) -> None:
    container, client = await _client(tmp_path)
    async with client:
        read = await client.get("/v1/privacy/processors", headers={"Origin": "https://anything.example"})
        assert read.status_code == 200
        assert "access-control-allow-origin" not in read.headers
    await container.aclose()


async def test_every_response_carries_the_security_headers(client: AsyncTestClient) -> None:
    for path in ("/v1/privacy/policy", "/health", "/v1/me", "/no/such/route"):
        response = await client.get(path)
        assert response.headers["strict-transport-security"].startswith("max-age=63072000")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger", "/schema/redoc", "/schema/elements"])
async def test_the_documentation_pages_have_a_content_security_policy(client: AsyncTestClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'none'" in csp and "base-uri 'none'" in csp
    # every script the page loads is from an origin the policy names
    import re

    for src in re.findall(r'<script[^>]+src="(https://[^/"]+)', response.text):
        assert src in csp, f"{page} loads a script from {src}, which its CSP does not allow"


def test_the_abuse_prone_routes_draw_on_the_tight_budgets(client: AsyncTestClient) -> None:
    app: Any = client.app
    budgets: dict[tuple[str, str], str] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for method in handler.http_methods:
                budgets[(method, route.path)] = budget_of(handler.opt)
    assert set(budgets.values()) <= set(BUDGETS)
    expected = {
        ("POST", "/v1/accounts"): SENSITIVE,
        ("POST", "/v1/auth/token"): SENSITIVE,
        ("POST", "/v1/privacy/requests"): SENSITIVE,
        ("POST", "/v1/privacy/requests/{request_id:uuid}/verify"): SENSITIVE,
        ("POST", "/v1/privacy/requests/{request_id:uuid}/code"): SENSITIVE,
        ("POST", "/v1/uploads"): CONTENT,
        ("POST", "/v1/generations"): CONTENT,
        ("GET", "/v1/generations"): GENERAL,
        ("GET", "/v1/me"): GENERAL,
    }
    for route, budget in expected.items():
        assert budgets.get(route) == budget, f"{route} draws on {budgets.get(route)}, expected {budget}"


async def test_uploads_and_generations_share_the_content_budget(tmp_path: Path) -> None:
    container, client = await _client(
        tmp_path, DREAMINA_RATE_LIMIT_CONTENT_PER_MINUTE="3", DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE="50"
    )
    async with client:
        headers = await signed_in(client, "budget@example.com")
        statuses = [
            (
                await client.post("/v1/uploads", files={"file": ("a.png", png_bytes(), "image/png")}, headers=headers)
            ).status_code
            for _ in range(2)
        ]
        body = {"kind": "image", "prompt": "a lighthouse at dusk"}
        statuses.append((await client.post("/v1/generations", json=body, headers=headers)).status_code)
        assert statuses == [201, 201, 202]
        limited = await client.post("/v1/generations", json=body, headers=headers)
        assert limited.status_code == 429
        assert limited.json()["code"] == "too_many_requests"
        assert 1 <= int(limited.headers["retry-after"]) <= 120  # a sliding minute: may reach into the next
        # reading is on the general budget and still open
        assert (await client.get("/v1/generations", headers=headers)).status_code == 200
    await container.aclose()


async def test_one_time_codes_are_on_the_sensitive_budget(tmp_path: Path) -> None:
    container, client = await _client(tmp_path, DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE="4")
    async with client:
        headers = await signed_in(client, "codes@example.com", verified=False)  # sign-up and sign-in: 2 of 4
        made = await client.post("/v1/privacy/requests", json={"type": "export"}, headers=headers)
        assert made.status_code == 202  # 3 of 4
        request_id = made.json()["id"]
        wrong = await client.post(
            f"/v1/privacy/requests/{request_id}/verify", json={"code": "00000000"}, headers=headers
        )
        assert wrong.status_code != 429  # 4 of 4
        guessed = await client.post(
            f"/v1/privacy/requests/{request_id}/verify", json={"code": "11111111"}, headers=headers
        )
        assert guessed.status_code == 429
        assert int(guessed.headers["retry-after"]) >= 1
        again = await client.post(f"/v1/privacy/requests/{request_id}/code", headers=headers)
        assert again.status_code == 429
    await container.aclose()


def test_a_busy_store_is_a_503_with_retry_after_never_a_500() -> None:
    from dreamina.domain.privacy.errors import DomainError, StoreBusy
    from dreamina.entrypoints.http.problems import exception_handlers

    handler: Any = exception_handlers({})[DomainError]
    response = handler(None, StoreBusy("the database is busy with another write; try again"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.content["code"] == "busy"
