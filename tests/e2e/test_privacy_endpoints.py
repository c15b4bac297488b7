"""The policy is served as versioned data; the processor record is generated from the data map; health works."""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from pathlib import Path

from litestar.testing import AsyncTestClient

from dreamina.adapters import providers
from dreamina.adapters.payments.stripe_processor import StripePaymentProcessor
from dreamina.bootstrap import Container, declared_data_map
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.generation import ProviderCapabilities

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
    assert policy["text"] == text
    assert policy["last_updated"] == "2026-05-01"
    assert policy["last_updated_label"] == "May 2026"
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


async def test_processor_record_is_generated_from_the_data_map(client: AsyncTestClient) -> None:
    processors = {p["id"]: p for p in (await client.get("/v1/privacy/processors")).json()["processors"]}
    assert set(processors) == {p.id for p in DATA_MAP.processors}
    # Hosting holds everything we store; Stripe receives the email (account) only so far.
    assert set(processors["hosting"]["categories"]) >= {"account", "content", "technical"}
    assert processors["stripe"]["categories"] == ["account", "payment"]
    assert processors["openai"]["categories"] == ["content"]
    for record in processors.values():
        assert record["location"] and record["retention"] and record["purposes"]


def _processors_adapters_send_to() -> dict[str, str]:
    """Every processor an adapter of this repository hands personal data to, and the adapter that does: each model
    provider (found by walking ``adapters/providers``, so a new one is included) and the payment processor."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(providers.__path__):
        module = importlib.import_module(f"{providers.__name__}.{info.name}")
        for name, value in vars(module).items():
            capabilities = getattr(value, "capabilities", None)
            if isinstance(value, type) and isinstance(capabilities, ProviderCapabilities) and capabilities.processor:
                found[capabilities.processor] = f"{module.__name__}.{name}"
    assert StripePaymentProcessor.processor is not None
    found[StripePaymentProcessor.processor] = StripePaymentProcessor.__qualname__
    return found


async def test_every_processor_an_adapter_sends_data_to_is_in_the_public_record(client: AsyncTestClient) -> None:
    """Section 5: the record is generated from the data map, so it can only be as complete as the map; this checks
    it against what the code actually sends data to (a provider dropped from the map while its adapter still runs
    would otherwise vanish from both sides at once)."""
    sent_to = _processors_adapters_send_to()
    assert {"openai", "replicate", "runway", "stripe"} <= set(sent_to)  # the walk itself found the adapters
    record = {p["id"]: p for p in (await client.get("/v1/privacy/processors")).json()["processors"]}
    assert {processor: adapter for processor, adapter in sent_to.items() if processor not in record} == {}
    for processor in set(sent_to) - {"stripe"}:
        assert "content" in record[processor]["categories"], processor  # prompts and reference images
        assert Purpose.GENERATION.value in record[processor]["purposes"], processor
    assert "account" in record["stripe"]["categories"]  # the email sent to create the customer


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
