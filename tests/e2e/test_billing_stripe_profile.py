"""The production wiring (``DREAMINA_PAYMENTS=stripe``) end to end, against the loopback emulation of Stripe's API:
checkout over HTTP, the buyer pays on the (emulated) hosted page, Stripe's signed event arrives at the webhook."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from dreamina.adapters.payments.stripe_processor import StripePaymentProcessor
from dreamina.bootstrap import Container, build_container
from dreamina.entrypoints.http.app import create_app
from dreamina.settings import load_settings

from ..contract.stripe_emulator import API_KEY, StripeEmulator, running_stripe_emulator
from .billing_helpers import balance, billing
from .conftest import test_overrides
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
            async with AsyncTestClient(app=create_app(container=container)) as client:
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
