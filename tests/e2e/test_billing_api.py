"""The newcomer's path in the embedded profile: welcome credits, buy a pack on the sandbox page, spend it."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.payments import events as signed
from dreamina.bootstrap import Container
from dreamina.ports.generation import GenerationKind
from tests.e2e.conftest import app_for
from tests.http_client import AsyncTestClient

from .billing_helpers import balance, billing, pay, sandbox, start_checkout
from .helpers import signed_in


async def test_newcomer_buys_a_pack_in_the_sandbox_and_spends_it(client: AsyncTestClient, container: Container) -> None:
    auth = await signed_in(client, "buyer@example.com")
    packs = (await client.get("/v1/billing/packs")).json()
    assert [p["id"] for p in packs["packs"]] == ["starter", "creator", "studio"]
    assert packs["generation_prices"] == {"image_per_output": 4, "video_per_second": 2}
    assert await balance(client, auth) == 40  # welcome grant

    page = await start_checkout(client, auth)
    shown = await client.get(page)
    assert shown.status_code == 200 and "<form" in shown.text and "5.00 EUR" in shown.text
    assert "form-action 'self'" in shown.headers["content-security-policy"]
    assert await pay(client, page, "4000 0000 0000 0002") == 402  # declined
    assert await pay(client, page, "4242 4242 4242 4243") == 422  # not a valid number
    assert await balance(client, auth) == 40
    assert await pay(client, page, "4242 4242 4242 4242") == 200
    assert await balance(client, auth) == 140
    assert (await client.get(page)).status_code == 410  # the session is complete

    me = (await client.get("/v1/me", headers=auth)).json()
    generation = uuid.uuid4()
    charges = billing(container).charges  # what the generation module is given
    async with container.infra.uow() as uow:
        await charges.reserve(uow, uuid.UUID(me["id"]), generation, GenerationKind.IMAGE, 3)  # 3 images
        await uow.commit()
    await charges.capture(generation)
    assert await balance(client, auth) == 128

    first = await client.get("/v1/billing/ledger", params={"limit": 2}, headers=auth)
    assert first.status_code == 200
    rest = await client.get("/v1/billing/ledger", params={"cursor": first.json()["next_cursor"]}, headers=auth)
    kinds = [e["kind"] for e in first.json()["entries"] + rest.json()["entries"]]
    assert sorted(kinds) == ["capture", "purchase", "reserve", "welcome_grant"]
    assert rest.json()["next_cursor"] is None


async def test_webhook_endpoint_verifies_and_handles_each_event_once(
    client: AsyncTestClient, container: Container
) -> None:
    auth = await signed_in(client, "hooks@example.com")
    await pay(client, await start_checkout(client, auth), "4242424242424242")
    payload, header = sandbox(container).sent[-1]
    url = "/v1/billing/webhooks/stripe"
    duplicate = await client.post(url, content=payload, headers={"Stripe-Signature": header})
    assert duplicate.status_code == 200 and duplicate.json()["outcome"] == "duplicate"
    for bad in ("", "t=1,v1=00", signed.sign(payload, "whsec_wrong", int(container.infra.clock.now().timestamp()))):
        answer = await client.post(url, content=payload, headers={"Stripe-Signature": bad} if bad else {})
        assert answer.status_code == 400 and answer.json()["code"] == "invalid_signature"
    stale = signed.sign(payload, sandbox(container)._secret, int(container.infra.clock.now().timestamp()) - 301)
    answer = await client.post(url, content=payload, headers={"Stripe-Signature": stale})
    assert answer.status_code == 400
    assert await balance(client, auth) == 140


async def test_billing_refuses_bad_input_with_problem_details(client: AsyncTestClient) -> None:
    auth = await signed_in(client, "bad@example.com")
    assert (await client.get("/v1/billing/balance")).status_code == 401
    unknown = await client.post("/v1/billing/checkout", json={"pack_id": "platinum"}, headers=auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_pack"
    extra = await client.post("/v1/billing/checkout", json={"pack_id": "starter", "x": 1}, headers=auth)
    assert extra.status_code == 400
    cursor = await client.get("/v1/billing/ledger", params={"cursor": "zz"}, headers=auth)
    assert cursor.status_code == 422 and cursor.json()["code"] == "invalid_input"
    assert (await client.get("/v1/billing/sandbox/checkout/cs_test_000000000000000000000000")).status_code == 404


async def test_two_deliveries_at_once_over_http_credit_once(client: AsyncTestClient, container: Container) -> None:
    auth = await signed_in(client, "twice@example.com")
    box = sandbox(container)
    box.sink = None  # hold the sandbox's own delivery: the test delivers it, twice and at once
    await pay(client, await start_checkout(client, auth), "4242424242424242")
    payload, header = box.sent[-1]
    answers = await asyncio.gather(
        *(
            client.post("/v1/billing/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})
            for _ in range(2)
        )
    )
    assert sorted(a.json()["outcome"] for a in answers) == ["credited", "duplicate"]
    assert await balance(client, auth) == 140


async def test_sending_the_email_to_the_processor_is_a_recorded_disclosure(
    uow_factory: Any, tmp_path: Any, logs: Any
) -> None:
    from dreamina.adapters.memory.payments import InMemoryPaymentProcessor
    from dreamina.bootstrap import build_container
    from dreamina.settings import load_settings

    from .conftest import test_overrides

    overrides = test_overrides()
    fake = InMemoryPaymentProcessor(secret="whsec_e2e", clock=overrides["clock"])
    wired = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=uow_factory, payment_processor=fake, **overrides
    )
    try:
        async with AsyncTestClient(app=app_for(wired)) as client:
            auth = await signed_in(client, "disclosed@example.com")
            for _ in range(2):  # the customer is made once
                started = await client.post("/v1/billing/checkout", json={"pack_id": "creator"}, headers=auth)
                assert started.status_code == 201
            me = (await client.get("/v1/me", headers=auth)).json()
        assert [email for _, email in fake.customers_created] == ["disclosed@example.com"]
        assert [(c.amount, c.currency) for c in fake.checkouts] == [(2000, "eur"), (2000, "eur")]
        async with uow_factory() as uow:
            (disclosure,) = await uow.disclosures.list_for_subject(uuid.UUID(me["id"]))
            customer = await uow.billing.get_customer(uuid.UUID(me["id"]))
        assert customer is not None
        assert (disclosure.processor, disclosure.categories, disclosure.purpose, disclosure.reference) == (
            "stripe",
            ("account",),
            "process_payments",
            customer.customer_id,
        )
    finally:
        await wired.aclose()


async def test_a_sepa_debit_on_the_sandbox_page_is_credited_only_when_the_bank_confirms_it(
    client: AsyncTestClient, container: Container
) -> None:
    auth = await signed_in(client, "debit@example.com")
    succeeds, fails = signed.SEPA_TEST_IBANS
    refused = await client.post(await start_checkout(client, auth), data={"iban": "DE00123456780000000000"})
    assert refused.status_code == 422  # only the sandbox's test IBANs
    failed = await client.post(await start_checkout(client, auth), data={"iban": fails})
    assert failed.status_code == 402 and "did not" in failed.text
    assert await balance(client, auth) == 40
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    assert [m.kind for m in mailer.sent_to("debit@example.com") if m.kind == "payment_failed"] == ["payment_failed"]
    paid = await client.post(await start_checkout(client, auth), data={"iban": succeeds})
    assert paid.status_code == 200, paid.text
    assert await balance(client, auth) == 140
    sent = [json.loads(payload)["type"] for payload, _ in sandbox(container).sent[-2:]]
    assert sent == ["checkout.session.completed", "checkout.session.async_payment_succeeded"]
