"""The production wiring (``DREAMINA_PAYMENTS=stripe``) end to end, against the loopback emulation of Stripe's API:
checkout over HTTP, the buyer pays on the (emulated) hosted page, Stripe's signed event arrives at the webhook."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.payments import events as signed
from dreamina.adapters.payments.stripe_processor import StripePaymentProcessor
from dreamina.bootstrap import Container, build_container
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient

from ..contract.stripe_emulator import API_KEY, StripeEmulator, running_stripe_emulator
from .billing_helpers import balance, billing
from .conftest import app_for, test_overrides
from .helpers import signed_in

SECRET = "whsec_e2e_stripe"


@pytest.fixture
async def stripe_app(
    uow_factory: Any, tmp_path: Path
) -> AsyncIterator[tuple[AsyncTestClient, Container, StripeEmulator]]:
    overrides = test_overrides()
    clock = overrides["clock"]
    with running_stripe_emulator(SECRET, lambda: int(clock.now().timestamp())) as emulator:
        settings = load_settings(
            {
                "DREAMINA_DATA_DIR": str(tmp_path),
                "DREAMINA_PAYMENTS": "stripe",
                "DREAMINA_STRIPE_SECRET_KEY": API_KEY,
                "DREAMINA_STRIPE_WEBHOOK_SECRET": SECRET,
                "DREAMINA_STRIPE_API_BASE": emulator.base_url,
            }
        )
        container = build_container(settings, uow=uow_factory, **overrides)
        try:
            async with AsyncTestClient(app=app_for(container)) as client:
                yield client, container, emulator
        finally:
            await container.aclose()


async def test_a_pack_bought_through_stripe_is_credited_once_and_refunds_claw_back(
    stripe_app: tuple[AsyncTestClient, Container, StripeEmulator],
) -> None:
    client, container, emulator = stripe_app
    assert isinstance(billing(container).processor, StripePaymentProcessor)
    auth = await signed_in(client, "stripe.buyer@example.com")
    started = await client.post("/v1/billing/checkout", json={"pack_id": "starter"}, headers=auth)
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]
    assert started.json()["checkout_url"] == f"{emulator.base_url}/c/pay/{session_id}"
    (customer,) = emulator.customers.values()
    assert customer["email"] == "stripe.buyer@example.com"  # the one hand-off, recorded as a disclosure
    session = emulator.sessions[session_id]
    assert (session["mode"], session["amount_total"], session["currency"]) == ("payment", 500, "eur")

    assert emulator.pay(session_id, "4242424242424242")
    payload, header = emulator.sent[-1]
    for _ in range(2):
        answer = await client.post("/v1/billing/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})
        assert answer.status_code == 200
    assert await balance(client, auth) == 140

    me = (await client.get("/v1/me", headers=auth)).json()
    (payment,) = await billing(container).records.payments(uuid.UUID(me["id"]))
    assert (payment.card_brand, payment.card_last4, payment.card_exp_month, payment.card_exp_year) == (
        "visa",
        "4242",
        12,
        2031,
    )
    await billing(container).records.refund(payment.payment_intent_id)
    refund_payload, refund_header = emulator.sent[-1]
    answer = await client.post(
        "/v1/billing/webhooks/stripe", content=refund_payload, headers={"Stripe-Signature": refund_header}
    )
    assert answer.json()["outcome"] == "clawed_back"
    assert await balance(client, auth) == 40

    erased = await billing(container).records.pseudonymise_subject(uuid.UUID(me["id"]))
    assert erased.processor_customer_deleted is True and emulator.customers == {}


async def _deliver(client: AsyncTestClient, emulator: StripeEmulator, *, times: int = 1) -> list[str]:
    """POST Stripe's latest signed event to the webhook ``times`` times (redelivery); the outcomes."""
    payload, header = emulator.sent[-1]
    outcomes = []
    for _ in range(times):
        answer = await client.post("/v1/billing/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})
        assert answer.status_code == 200, answer.text
        outcomes.append(answer.json()["outcome"])
    return outcomes


async def _buy_by_debit(client: AsyncTestClient, emulator: StripeEmulator, email: str, iban: str) -> dict[str, str]:
    auth = await signed_in(client, email)
    started = await client.post("/v1/billing/checkout", json={"pack_id": "starter"}, headers=auth)
    session_id = started.json()["session_id"]
    emulator.pay_by_debit(session_id, iban)
    assert await _deliver(client, emulator, times=2) == ["awaiting_payment", "duplicate"]
    assert await balance(client, auth) == 40  # nothing until the bank answers
    emulator.settle_debit(session_id)
    return auth


async def test_a_sepa_debit_through_stripe_is_credited_once_when_the_bank_confirms_it(
    stripe_app: tuple[AsyncTestClient, Container, StripeEmulator],
) -> None:
    client, _, emulator = stripe_app
    auth = await _buy_by_debit(client, emulator, "debit.buyer@example.com", signed.SEPA_TEST_IBANS[0])
    assert await _deliver(client, emulator, times=3) == ["credited", "duplicate", "duplicate"]
    assert await balance(client, auth) == 140
    kinds = [e["kind"] for e in (await client.get("/v1/billing/ledger", headers=auth)).json()["entries"]]
    assert sorted(kinds) == ["purchase", "welcome_grant"]


async def test_a_failed_debit_through_stripe_credits_nothing_and_tells_the_buyer(
    stripe_app: tuple[AsyncTestClient, Container, StripeEmulator],
) -> None:
    client, container, emulator = stripe_app
    auth = await _buy_by_debit(client, emulator, "debit.fails@example.com", signed.SEPA_TEST_IBANS[1])
    assert await _deliver(client, emulator, times=2) == ["payment_failed", "duplicate"]
    assert await balance(client, auth) == 40
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    (told,) = [m for m in mailer.sent_to("debit.fails@example.com") if m.kind == "payment_failed"]
    assert "no credits were added" in told.body


async def test_disputes_through_stripe_won_give_the_credits_back_and_lost_keep_them_withdrawn(
    stripe_app: tuple[AsyncTestClient, Container, StripeEmulator],
) -> None:
    client, _, emulator = stripe_app
    for status, left in (("won", 140), ("lost", 40)):
        auth = await signed_in(client, f"disputed.{status}@example.com")
        started = await client.post("/v1/billing/checkout", json={"pack_id": "starter"}, headers=auth)
        assert emulator.pay(started.json()["session_id"], "4242424242424242")
        await _deliver(client, emulator)
        intent = json.loads(emulator.sent[-1][0])["data"]["object"]["payment_intent"]
        emulator.dispute(intent, None)
        assert await _deliver(client, emulator, times=2) == ["clawed_back", "duplicate"]
        assert await balance(client, auth) == 40
        emulator.close_dispute(json.loads(emulator.sent[-1][0])["data"]["object"]["id"], status)
        assert await _deliver(client, emulator, times=2) == [f"dispute_{status}", "duplicate"]
        assert await balance(client, auth) == left, status
