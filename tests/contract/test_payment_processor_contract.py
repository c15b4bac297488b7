"""One contract for every PaymentProcessor: the in-memory fake, the local sandbox, and the Stripe adapter
against a loopback emulation of Stripe's documented HTTP API."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.payments import InMemoryPaymentProcessor
from dreamina.adapters.payments import events as signed
from dreamina.adapters.payments.sandbox import LocalPaymentSandbox
from dreamina.adapters.payments.stripe_processor import StripePaymentProcessor
from dreamina.domain.billing.errors import InvalidSignature
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.payments import CheckoutRequest, PaymentProcessor

from .stripe_emulator import API_KEY, running_stripe_emulator

SECRET = "whsec_contract"
SEPA_SUCCEEDS, SEPA_FAILS = signed.SEPA_TEST_IBANS  # Stripe's documented test IBANs
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Harness:
    processor: PaymentProcessor
    clock: MovableClock
    pay: Callable[[str, str], Awaitable[bool]]
    dispute: Callable[[str], Awaitable[None]]
    sent: Callable[[], list[tuple[bytes, str]]]
    pay_by_debit: Callable[[str, bool], Awaitable[None]]  # a delayed method: the session completes unpaid
    settle_debit: Callable[[str], Awaitable[None]]  # the bank's answer arrives: async_payment_succeeded|failed
    close_dispute: Callable[[str, str], Awaitable[None]]  # the network decides: won | lost


def _local(processor: LocalPaymentSandbox, clock: MovableClock) -> Harness:
    async def pay(session_id: str, number: str) -> bool:
        try:
            return (await processor.pay(session_id, number, "12", "2031", "123")).status == "succeeded"
        except NotFound:  # the session is no longer open
            return False

    async def dispute(intent: str) -> None:
        await processor.dispute(intent)

    async def pay_by_debit(session_id: str, succeeds: bool) -> None:
        await processor.pay_by_debit(session_id, SEPA_SUCCEEDS if succeeds else SEPA_FAILS)

    return Harness(
        processor,
        clock,
        pay,
        dispute,
        lambda: processor.sent,
        pay_by_debit,
        processor.settle_debit,
        processor.close_dispute,
    )


@pytest.fixture(params=["fake", "sandbox", "stripe"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    clock = MovableClock(NOW)
    if request.param == "fake":
        yield _local(InMemoryPaymentProcessor(secret=SECRET, clock=clock), clock)
    elif request.param == "sandbox":
        sandbox = LocalPaymentSandbox(secret=SECRET, clock=clock, checkout_base_url="http://127.0.0.1:8000/pay")
        yield _local(sandbox, clock)
    else:
        with running_stripe_emulator(SECRET, lambda: int(clock.now().timestamp())) as emulator:
            processor = StripePaymentProcessor(
                secret_key=API_KEY,
                webhook_secret=SECRET,
                clock=clock,
                api_base=emulator.base_url,
                max_network_retries=0,
            )

            async def pay(session_id: str, number: str) -> bool:
                return emulator.pay(session_id, number)

            async def dispute(intent: str) -> None:
                emulator.dispute(intent, None)

            async def pay_by_debit(session_id: str, succeeds: bool) -> None:
                emulator.pay_by_debit(session_id, SEPA_SUCCEEDS if succeeds else SEPA_FAILS)

            async def settle_debit(session_id: str) -> None:
                emulator.settle_debit(session_id)

            async def close_dispute(dispute_id: str, status: str) -> None:
                emulator.close_dispute(dispute_id, status)

            try:
                yield Harness(
                    processor, clock, pay, dispute, lambda: emulator.sent, pay_by_debit, settle_debit, close_dispute
                )
            finally:
                await processor.aclose()


def checkout_request(customer_id: str | None, reference: str | None = None) -> CheckoutRequest:
    return CheckoutRequest(
        customer_id=customer_id,
        pack_id="starter",
        description="Starter: 100 Dreamina credits",
        amount=500,
        currency="eur",
        success_url="http://127.0.0.1:8000/v1/billing/checkout/return?outcome=success",
        cancel_url="http://127.0.0.1:8000/v1/billing/checkout/return?outcome=cancelled",
        reference=reference or "chk_" + secrets.token_urlsafe(18),
    )


async def paid_session(h: Harness) -> tuple[str, str]:
    """(session id, payment intent id) of a checkout paid with the 4242 test card."""
    customer = await h.processor.create_customer(str(uuid.uuid4()), "buyer@example.com")
    hosted = await h.processor.create_checkout(checkout_request(customer))
    assert await h.pay(hosted.session_id, "4242424242424242")
    event = h.processor.verify_event(*h.sent()[-1])
    assert event.payment_intent_id is not None
    return hosted.session_id, event.payment_intent_id


async def test_customers_are_created_and_deleted(harness: Harness) -> None:
    customer = await harness.processor.create_customer(str(uuid.uuid4()), "someone@example.com")
    assert customer.startswith("cus_")
    assert await harness.processor.delete_customer(customer) is True
    assert await harness.processor.delete_customer(customer) is False


async def test_a_paid_checkout_sends_one_signed_completion_with_the_card_summary_only(harness: Harness) -> None:
    customer = await harness.processor.create_customer(str(uuid.uuid4()), None)
    request = checkout_request(customer)
    hosted = await harness.processor.create_checkout(request)
    assert hosted.session_id.startswith("cs_") and hosted.session_id in hosted.url
    assert hosted.expires_at > NOW
    assert harness.sent() == []
    assert await harness.pay(hosted.session_id, "4242424242424242")
    (delivery,) = harness.sent()
    event = harness.processor.verify_event(*delivery)
    assert event.type == "checkout.session.completed" and event.session_id == hosted.session_id
    assert (event.amount, event.currency, event.payment_status) == (500, "eur", "paid")
    assert event.client_reference_id == request.reference and event.customer_id == customer
    assert event.payment_intent_id is not None
    card = await harness.processor.card_summary(event.payment_intent_id)
    assert card is not None and (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2031)
    assert b"4242424242424242" not in delivery[0]


async def test_a_declined_card_sends_nothing(harness: Harness) -> None:
    hosted = await harness.processor.create_checkout(checkout_request(None))
    assert not await harness.pay(hosted.session_id, "4000000000000002")
    assert harness.sent() == []


async def test_an_expired_checkout_sends_expired(harness: Harness) -> None:
    hosted = await harness.processor.create_checkout(checkout_request(None))
    await harness.processor.expire_checkout(hosted.session_id)
    event = harness.processor.verify_event(*harness.sent()[-1])
    assert (event.type, event.session_id) == ("checkout.session.expired", hosted.session_id)
    assert not await harness.pay(hosted.session_id, "4242424242424242")


async def test_refunds_send_cumulative_charge_refunded(harness: Harness) -> None:
    _, intent = await paid_session(harness)
    first_id = await harness.processor.refund(intent, 200, f"r1-{intent}")
    first = harness.processor.verify_event(*harness.sent()[-1])
    await harness.processor.refund(intent, None, f"r2-{intent}")
    rest = harness.processor.verify_event(*harness.sent()[-1])
    assert first_id.startswith("re_")
    assert (first.type, first.payment_intent_id, first.amount, first.amount_refunded) == (
        "charge.refunded",
        intent,
        500,
        200,
    )
    assert rest.amount_refunded == 500
    assert first.card is not None and first.card.last4 == "4242"


async def test_a_dispute_sends_charge_dispute_created(harness: Harness) -> None:
    _, intent = await paid_session(harness)
    await harness.dispute(intent)
    event = harness.processor.verify_event(*harness.sent()[-1])
    assert (event.type, event.payment_intent_id, event.amount, event.currency) == (
        "charge.dispute.created",
        intent,
        500,
        "eur",
    )


async def test_checkout_creation_is_idempotent_per_reference(harness: Harness) -> None:
    request = checkout_request(None, reference="same-reference")
    first = await harness.processor.create_checkout(request)
    again = await harness.processor.create_checkout(request)
    assert first.session_id == again.session_id


async def test_a_delayed_debit_completes_unpaid_then_sends_async_payment_succeeded(harness: Harness) -> None:
    request = checkout_request(None)
    hosted = await harness.processor.create_checkout(request)
    await harness.pay_by_debit(hosted.session_id, True)
    completed = harness.processor.verify_event(*harness.sent()[-1])
    assert (completed.type, completed.session_id, completed.payment_status) == (
        "checkout.session.completed",
        hosted.session_id,
        "unpaid",
    )
    assert completed.payment_intent_id is not None  # the PaymentIntent exists, still processing
    await harness.settle_debit(hosted.session_id)
    settled = harness.processor.verify_event(*harness.sent()[-1])
    assert (settled.type, settled.session_id, settled.payment_status) == (
        "checkout.session.async_payment_succeeded",
        hosted.session_id,
        "paid",
    )
    assert (settled.payment_intent_id, settled.amount, settled.currency) == (completed.payment_intent_id, 500, "eur")
    assert settled.client_reference_id == request.reference
    assert await harness.processor.card_summary(completed.payment_intent_id) is None  # no card paid


async def test_a_failed_debit_sends_async_payment_failed(harness: Harness) -> None:
    hosted = await harness.processor.create_checkout(checkout_request(None))
    await harness.pay_by_debit(hosted.session_id, False)
    await harness.settle_debit(hosted.session_id)
    failed = harness.processor.verify_event(*harness.sent()[-1])
    assert (failed.type, failed.session_id, failed.payment_status) == (
        "checkout.session.async_payment_failed",
        hosted.session_id,
        "unpaid",
    )
    assert len(harness.sent()) == 2  # completed (unpaid), then failed


@pytest.mark.parametrize("status", ["won", "lost"])
async def test_a_closed_dispute_sends_charge_dispute_closed_with_its_status(harness: Harness, status: str) -> None:
    _, intent = await paid_session(harness)
    await harness.dispute(intent)
    created = harness.processor.verify_event(*harness.sent()[-1])
    assert created.status == "needs_response" and created.object_id.startswith("dp_")
    await harness.close_dispute(created.object_id, status)
    closed = harness.processor.verify_event(*harness.sent()[-1])
    assert (closed.type, closed.object_id, closed.payment_intent_id, closed.status, closed.amount) == (
        "charge.dispute.closed",
        created.object_id,
        intent,
        status,
        500,
    )


@pytest.mark.parametrize("how", ["tampered", "stale", "future", "wrong_secret", "missing", "malformed"])
async def test_deliveries_that_are_not_signed_by_the_processor_now_are_refused(harness: Harness, how: str) -> None:
    await paid_session(harness)
    payload, header = harness.sent()[-1]
    now = int(harness.clock.now().timestamp())
    if how == "tampered":
        payload = payload.replace(b'"amount_total":500', b'"amount_total":50000')
    elif how == "stale":
        harness.clock.advance(timedelta(seconds=301))
    elif how == "future":
        header = signed.sign(payload, SECRET, now + 301)
    elif how == "wrong_secret":
        header = signed.sign(payload, "whsec_someone_else", now)
    elif how == "missing":
        header = None  # type: ignore[assignment]
    else:
        header = "v1=" + header.split("v1=")[1]
    with pytest.raises(InvalidSignature):
        harness.processor.verify_event(payload, header)
