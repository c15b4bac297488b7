"""Billing configuration, prices, and the event parser that keeps nothing but ids, amounts and the card summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dreamina.adapters.payments import events
from dreamina.domain.billing.catalogue import GenerationPrices, parse_packs
from dreamina.domain.billing.errors import InvalidEvent, InvalidSignature
from dreamina.domain.billing.events import proportional_credits
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.settings import SettingsError, describe, load_settings


def test_billing_settings_defaults_and_secrets_are_masked() -> None:
    settings = load_settings({"DREAMINA_STRIPE_SECRET_KEY": "sk_live_x", "DREAMINA_STRIPE_WEBHOOK_SECRET": "whsec_x"})
    assert settings.payments == "sandbox" and settings.billing_welcome_credits == 40
    assert settings.billing_record_retention_days == 3650
    shown = describe(settings)
    assert shown["stripe_secret_key"] == "***" and shown["stripe_webhook_secret"] == "***"


@pytest.mark.parametrize(
    "environ",
    [
        {"DREAMINA_PAYMENTS": "stripe"},
        {"DREAMINA_PAYMENTS": "stripe", "DREAMINA_STRIPE_SECRET_KEY": "sk_test_x"},
        {"DREAMINA_BILLING_PACKS": "starter:100:500"},
        {"DREAMINA_BILLING_PACKS": "a:1:1:eur,a:2:2:eur"},
        {"DREAMINA_BILLING_PACKS": "Bad Id:1:1:eur"},
        {"DREAMINA_BILLING_PACKS": "x:0:100:eur"},
        {"DREAMINA_BILLING_IMAGE_COST": "0"},
        {"DREAMINA_BILLING_WELCOME_CREDITS": "-1"},
        {"DREAMINA_BILLING_RECORD_RETENTION_DAYS": "30"},
        {"DREAMINA_PAYMENTS": "paypal"},
    ],
)
def test_bad_billing_settings_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(environ)


def test_packs_and_prices() -> None:
    (pack,) = parse_packs(" pro-pack:250:1299:USD ")
    assert (pack.id, pack.name, pack.credits, pack.amount, pack.currency) == ("pro-pack", "Pro Pack", 250, 1299, "usd")
    prices = GenerationPrices(image_per_output=4, video_per_second=3)
    assert prices.cost("image", outputs=3) == 12 and prices.cost("video", seconds=5) == 15
    with pytest.raises(InvalidInput):
        prices.cost("audio")


def test_claw_back_is_proportional_and_capped() -> None:
    assert proportional_credits(100, 500, 500) == 100
    assert proportional_credits(100, 250, 500) == 50
    assert proportional_credits(100, 1, 3) == 33
    assert proportional_credits(100, 900, 500) == 100


def charge_event(card: dict[str, object], **obj: object) -> bytes:
    body = {
        "id": "evt_1",
        "type": "charge.refunded",
        "created": 1_795_000_000,
        "data": {
            "object": {"id": "ch_1", "amount": 500, "currency": "eur", "payment_method_details": {"card": card}, **obj}
        },
    }
    return json.dumps(body).encode()


def test_parsing_keeps_only_the_card_summary() -> None:
    parsed = events.parse(
        charge_event(
            {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2031, "number": "4242424242424242"}
        )
    )
    assert parsed.card is not None and (parsed.card.brand, parsed.card.last4) == ("visa", "4242")
    assert "4242424242424242" not in repr(parsed)
    sneaky = events.parse(charge_event({"brand": "4242424242424242", "last4": "4242424242424242", "exp_month": 99}))
    assert sneaky.card is not None and (sneaky.card.brand, sneaky.card.last4, sneaky.card.exp_month) == (
        None,
        None,
        None,
    )
    digits = events.parse(charge_event({}, payment_intent="pi_4242424242424242", customer="4242424242424242"))
    assert (digits.payment_intent_id, digits.customer_id) == (None, None)


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"id":"evt_1"}', b'{"id":"1234","type":"x","created":1,"data":{"object":{"id":"ch_1"}}}'],
)
def test_unreadable_events_are_refused(payload: bytes) -> None:
    with pytest.raises(InvalidEvent):
        events.parse(payload)


def test_signature_scheme_matches_stripes_library() -> None:
    import stripe

    payload, now = b'{"id":"evt_1"}', datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), "whsec_x", int(now.timestamp()))
    events.verify(payload, header, "whsec_x", now, 300)  # a header Stripe's own library made is accepted
    stripe.WebhookSignature.verify_header(
        payload.decode(), events.sign(payload, "whsec_x", int(now.timestamp())), "whsec_x", None
    )
    with pytest.raises(InvalidSignature):
        events.verify(payload, header, "whsec_x", now.replace(minute=6), 300)
