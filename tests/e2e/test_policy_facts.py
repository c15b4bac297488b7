"""The policy as served carries true facts (issue 16, findings 6, 7 and 8): the operator's privacy contact, a
"Last updated" line that is the version's own date, and a processor record that is the configuration's."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import pkgutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters import providers
from dreamina.adapters.logs import configure_logging
from dreamina.adapters.payments.stripe_processor import StripePaymentProcessor
from dreamina.bootstrap import Container, build_container, declared_data_map
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.generation import ProviderCapabilities
from dreamina.settings import load_settings
from tests.e2e.conftest import UNTHROTTLED, app_for, test_overrides
from tests.e2e.helpers import sign_up_body, signed_in
from tests.http_client import AsyncTestClient

PACKAGED_POLICY = Path(__file__).resolve().parents[2] / "src" / "dreamina" / "data" / "privacy-policy-v1.txt"
COMPANY_DOCUMENT_SHA256 = "0e5ae6c5b6deea462c02878447ee5543fac098a4a5d2d2d1caefcb0dd7e6c62e"
CONTACT = "dpo@dreamina.example"

# A configuration with every kind of third party: real model providers, Stripe, an SMTP relay and S3 (nothing is
# contacted: the record is read, no job runs).
REAL_VENDORS = {
    "DREAMINA_IMAGE_PROVIDER": "openai",
    "DREAMINA_OPENAI_API_KEY": "sk-test",
    "DREAMINA_OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    "DREAMINA_VIDEO_PROVIDER": "runway",
    "DREAMINA_RUNWAY_API_KEY": "key_test",
    "DREAMINA_RUNWAY_BASE_URL": "http://127.0.0.1:9/v1",
    "DREAMINA_PAYMENTS": "stripe",
    "DREAMINA_STRIPE_SECRET_KEY": "sk_test_123",
    "DREAMINA_STRIPE_WEBHOOK_SECRET": "whsec_123",
    "DREAMINA_STRIPE_API_BASE": "http://127.0.0.1:9",
    "DREAMINA_MAIL_BACKEND": "smtp",
    "DREAMINA_SMTP_HOST": "127.0.0.1",
    "DREAMINA_OBJECT_STORE": "s3",
    "DREAMINA_S3_BUCKET": "dreamina",
    "DREAMINA_S3_ENDPOINT_URL": "http://127.0.0.1:9",
}


REPLICATE = {"DREAMINA_IMAGE_PROVIDER": "replicate", "DREAMINA_REPLICATE_API_TOKEN": "r8_test"}


async def _app(uow_factory: Any, env: dict[str, str]) -> AsyncIterator[tuple[AsyncTestClient, Container]]:
    container = build_container(load_settings({**env, **UNTHROTTLED}), uow=uow_factory, **test_overrides())
    try:
        async with AsyncTestClient(app=app_for(container)) as client:
            yield client, container
    finally:
        await container.aclose()


@pytest.fixture
async def configured(uow_factory: Any, tmp_path: Path) -> AsyncIterator[tuple[AsyncTestClient, Container]]:
    env = {"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_PRIVACY_CONTACT_EMAIL": CONTACT, **REAL_VENDORS}
    async for app in _app(uow_factory, env):
        yield app


@pytest.fixture(params=["embedded", "real_vendors", "replicate"])
async def any_configuration(
    request: pytest.FixtureRequest, uow_factory: Any, tmp_path: Path
) -> AsyncIterator[tuple[AsyncTestClient, Container]]:
    vendors = {"embedded": {}, "real_vendors": REAL_VENDORS, "replicate": REPLICATE}[request.param]
    async for app in _app(uow_factory, {"DREAMINA_DATA_DIR": str(tmp_path), **vendors}):
        yield app


def _section(policy: dict[str, Any], number: int) -> str:
    return str(next(s["body"] for s in policy["sections"] if s["number"] == number))


async def test_the_embedded_policy_names_the_marked_development_contact(client: AsyncTestClient) -> None:
    policy = (await client.get("/v1/privacy/policy")).json()
    assert policy["privacy_contact"] == "privacy@dreamina.invalid"
    assert "[email protected]" not in policy["text"]
    assert _section(policy, 11).endswith("contact us at privacy@dreamina.invalid.")
    assert "contact us at the address below (privacy@dreamina.invalid)" in _section(policy, 7)


async def test_the_configured_contact_is_served_and_every_acceptance_keeps_its_hash(
    configured: tuple[AsyncTestClient, Container],
) -> None:
    client, _ = configured
    policy = (await client.get("/v1/privacy/policy")).json()
    assert policy["privacy_contact"] == CONTACT
    assert _section(policy, 11).endswith(f"contact us at {CONTACT}.")
    assert f"contact us at the address below ({CONTACT})" in _section(policy, 7)
    assert "[email protected]" not in policy["text"] and "dreamina.invalid" not in policy["text"]
    # the hash covers the template, the company document byte for byte: the contact is a fact served beside it,
    # so acceptances recorded before it was configured (or since it changed) still name this very text
    template = PACKAGED_POLICY.read_text(encoding="utf-8")
    assert policy["template"] == template
    assert policy["content_sha256"] == hashlib.sha256(template.encode()).hexdigest() == COMPANY_DOCUMENT_SHA256
    assert policy["text"] == template.replace("[email protected]", CONTACT).replace(
        "contact us at the address below", f"contact us at the address below ({CONTACT})"
    ).replace("Last updated: May 2026", "Last updated: 1 May 2026")
    by_hash = await client.post(
        "/v1/accounts", json=sign_up_body("hash.pinned@example.com", accept_policy_version=policy["content_sha256"])
    )
    assert by_hash.status_code == 201, by_hash.text


async def test_the_last_updated_line_is_the_versions_own_date(client: AsyncTestClient, container: Container) -> None:
    """Finding 7: the text said "May 2026" beside ``last_updated`` 2026-05-01, and a version published later kept
    whatever date its text was typed with. Both now come from the version's date."""
    policy = (await client.get("/v1/privacy/policy")).json()
    assert policy["last_updated"] == "2026-05-01"
    assert policy["last_updated_label"] == "1 May 2026"
    assert policy["text"].splitlines()[1] == "Last updated: 1 May 2026"
    admin = await signed_in(client, "publisher@example.com")
    await container.identity.staff.grant("publisher@example.com", "admin")
    typed = PACKAGED_POLICY.read_text(encoding="utf-8").replace("Last updated: May 2026", "Last updated: July 2020")
    effective = container.infra.clock.now().replace(year=2027, month=2, day=15, hour=9)
    published = await client.post(
        "/v1/admin/policy/versions", json={"text": typed, "effective_at": effective.isoformat()}, headers=admin
    )
    assert published.status_code == 201, published.text
    version = (await client.get("/v1/privacy/policy/versions/2")).json()
    assert version["last_updated"] == "2027-02-15"
    assert version["last_updated_label"] == "15 February 2027"
    assert version["text"].splitlines()[1] == "Last updated: 15 February 2027"
    assert "July 2020" not in version["text"] and version["template"] == typed
    assert version["privacy_contact"] == "privacy@dreamina.invalid"
    untitled = "1. Introduction\nWe changed everything.\n"  # no line to fill: one is added, dated like the rest
    effective = effective.replace(month=3, day=1)
    published = await client.post(
        "/v1/admin/policy/versions", json={"text": untitled, "effective_at": effective.isoformat()}, headers=admin
    )
    assert published.status_code == 201, published.text
    third = (await client.get("/v1/privacy/policy/versions/3")).json()
    assert third["text"].splitlines()[0] == "Last updated: 1 March 2027"
    assert [s["title"] for s in third["sections"]] == ["Introduction"]


async def _start_and_log(container: Container) -> list[dict[str, Any]]:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    try:
        async with AsyncTestClient(app_for(container)):  # the API's start-up, as serve runs it
            pass
    finally:
        configure_logging("INFO")
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


async def test_start_up_warns_when_the_policy_shows_the_development_contact(
    container: Container, configured: tuple[AsyncTestClient, Container]
) -> None:
    warned = [line for line in await _start_and_log(container) if line["event"] == "privacy_contact_not_configured"]
    assert len(warned) == 1 and warned[0]["level"] == "warning"
    assert warned[0]["setting"] == "DREAMINA_PRIVACY_CONTACT_EMAIL"
    assert "dreamina.invalid" not in json.dumps(warned)  # logs carry no address, not even the placeholder
    _, real = configured
    assert not [line for line in await _start_and_log(real) if line["event"] == "privacy_contact_not_configured"]


async def test_the_embedded_profile_names_no_processor_and_says_analytics_is_first_party(
    client: AsyncTestClient,
) -> None:
    """Finding 8: the offline renderer, the payment sandbox, the mail outbox and local files send nothing out."""
    body = (await client.get("/v1/privacy/processors")).json()
    assert body["processors"] == []
    analytics = body["analytics"]
    assert analytics["first_party"] is True and analytics["processors"] == []
    assert analytics["stores"] == ["analytics_events"]
    assert analytics["retention"] == ["deleted 180 days after the day of the event (`dreamina sweep`)"]
    assert "no analytics vendor" in analytics["statement"].lower()
    data_map = (await client.get("/v1/privacy/policy")).json()["data_map"]
    named = {p for s in data_map["stores"].values() for f in s["fields"].values() for p in f["processors"]}
    assert named | {p for prefix in data_map["object_prefixes"] for p in prefix["processors"]} == set()


async def test_a_configuration_with_real_vendors_names_exactly_them(
    configured: tuple[AsyncTestClient, Container],
) -> None:
    client, _ = configured
    body = (await client.get("/v1/privacy/processors")).json()
    record = {p["id"]: p for p in body["processors"]}
    assert set(record) == {"openai", "runway", "stripe", "email_delivery", "object_storage"}  # no replicate
    assert record["openai"]["categories"] == ["content"] and record["runway"]["categories"] == ["content"]
    assert record["stripe"]["categories"] == ["account", "payment"]
    assert record["object_storage"]["categories"] == ["account", "content"]  # uploads, outputs, exports
    assert "account" in record["email_delivery"]["categories"]
    assert body["analytics"]["processors"] == []  # hosting is not an analytics vendor, and none is listed here
    data_map = (await client.get("/v1/privacy/policy")).json()["data_map"]
    named = {p for s in data_map["stores"].values() for f in s["fields"].values() for p in f["processors"]}
    named |= {p for prefix in data_map["object_prefixes"] for p in prefix["processors"]}
    assert named <= set(record) and {"openai", "runway", "stripe", "email_delivery"} <= named


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


def test_every_processor_an_adapter_can_send_data_to_is_declared() -> None:
    """The catalogue the record is cut from names every adapter's processor (a provider dropped from the map while
    its adapter still runs would otherwise vanish from the record when configured)."""
    sent_to = _processors_adapters_send_to()
    assert {"openai", "replicate", "runway", "stripe"} <= set(sent_to)  # the walk itself found the adapters
    declared = {p.id for p in declared_data_map().processors}
    assert {processor: adapter for processor, adapter in sent_to.items() if processor not in declared} == {}


async def test_every_processor_an_adapter_sends_data_to_is_in_the_public_record(
    any_configuration: tuple[AsyncTestClient, Container],
) -> None:
    """Section 5, for each configuration: every processor the wired adapters hand data to is in the record, with
    what they receive, and no adapter's processor that is not wired is."""
    client, container = any_configuration
    wired = {*container.generation.processors.values(), container.billing.processor.processor} - {None}
    record = {p["id"]: p for p in (await client.get("/v1/privacy/processors")).json()["processors"]}
    assert wired <= set(record)
    assert set(record) & set(_processors_adapters_send_to()) == wired
    for processor in wired - {"stripe"}:
        assert "content" in record[processor]["categories"], processor  # prompts and reference images
        assert Purpose.GENERATION.value in record[processor]["purposes"], processor
    if "stripe" in wired:
        assert "account" in record["stripe"]["categories"]  # the email sent to create the customer
    for entry in record.values():
        assert entry["location"] and entry["retention"] and entry["purposes"]
