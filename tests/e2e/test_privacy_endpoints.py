"""The policy is served as versioned data; health works. (The processor record: test_policy_facts.py.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

from dreamina.bootstrap import Container, declared_data_map
from tests.http_client import AsyncTestClient

DATA_MAP = declared_data_map()

# The company document (shared/policy/privacy-policy.txt, outside this repository) as it was packaged: a test never
# reads outside the repository, so the copy is pinned by its hash instead of compared with the original.
COMPANY_DOCUMENT_SHA256 = "0e5ae6c5b6deea462c02878447ee5543fac098a4a5d2d2d1caefcb0dd7e6c62e"
PACKAGED_POLICY = Path(__file__).resolve().parents[2] / "src" / "dreamina" / "data" / "privacy-policy-v1.txt"


async def test_current_policy_is_version_1_with_its_hash_and_sections(client: AsyncTestClient) -> None:
    response = await client.get("/v1/privacy/policy")
    assert response.status_code == 200
    policy = response.json()
    text = PACKAGED_POLICY.read_text(encoding="utf-8")
    assert policy["version"] == 1
    assert policy["content_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert policy["template"] == text  # what the hash covers; "text" is it with its slots filled (test_policy_facts)
    assert policy["last_updated"] == "2026-05-01"
    assert policy["last_updated_label"] == "1 May 2026"
    assert [s["number"] for s in policy["sections"]] == list(range(1, 12))
    assert policy["sections"][6]["title"] == "Your Rights"
    assert "object to or restrict" in policy["sections"][6]["body"]
    assert set(policy["data_map"]["stores"]) == set(DATA_MAP.stores)


def test_packaged_policy_is_the_company_document() -> None:
    assert hashlib.sha256(PACKAGED_POLICY.read_bytes()).hexdigest() == COMPANY_DOCUMENT_SHA256


async def test_versions_list(client: AsyncTestClient) -> None:
    listing = (await client.get("/v1/privacy/policy/versions")).json()
    assert listing["current_version"] == 1
    assert [(v["version"], v["in_effect"]) for v in listing["versions"]] == [(1, True)]


async def test_start_up_is_idempotent(client: AsyncTestClient, container: Container) -> None:
    await container.start()
    await container.start()
    assert len(await container.consent.policies.versions()) == 1


async def test_health_and_schema(client: AsyncTestClient) -> None:
    health = await client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "redis": "not_configured", "objects": "ok"}
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/v1/accounts",
        "/v1/auth/token",
        "/v1/auth/logout",
        "/v1/me",
        "/v1/privacy/policy",
        "/v1/privacy/policy/versions",
        "/v1/privacy/processors",
        "/health",
    ):
        assert path in paths


async def test_security_headers(client: AsyncTestClient) -> None:
    response = await client.get("/v1/privacy/policy")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert len(response.headers["x-request-id"]) == 32
