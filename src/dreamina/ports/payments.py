"""The payment processor: hosted checkout, customers, refunds and the signed events it sends back.

Card details are entered only on the processor's hosted page. What reaches us is limited to processor ids,
amounts, currency and the card summary (brand, last4, expiry month/year): never a card number or CVC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    customer_id: str | None
    pack_id: str
    description: str
    amount: int  # minor units
    currency: str  # ISO 4217, lower case
    success_url: str
    cancel_url: str
    reference: str  # our reference for the checkout (client_reference_id); also the request's idempotency key


@dataclass(frozen=True, slots=True)
class HostedCheckout:
    session_id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CardSummary:
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True, slots=True)
class ProcessorEvent:
    """A verified event, reduced to the fields billing acts on (the rest of the payload is dropped)."""

    id: str
    type: str
    created: datetime
    object_id: str
    session_id: str | None = None
    client_reference_id: str | None = None
    payment_status: str | None = None
    payment_intent_id: str | None = None
    customer_id: str | None = None
    amount: int | None = None  # session amount_total, charge amount or dispute amount
    amount_refunded: int | None = None  # cumulative, on charge events
    currency: str | None = None
    card: CardSummary | None = None
    status: str | None = None  # a dispute's status (needs_response, won, lost, warning_closed, ...)


class PaymentProcessor(Protocol):
    processor: str | None
    """The data-map processor id that receives personal data through this adapter; None if nothing leaves us."""

    async def create_customer(self, reference: str, email: str | None) -> str:
        """Create a customer (``reference`` is our idempotency key for it); returns the processor's id."""
        ...

    async def delete_customer(self, customer_id: str) -> bool:
        """Delete the customer at the processor (erasure); True if it existed."""
        ...

    async def create_checkout(self, request: CheckoutRequest) -> HostedCheckout:
        """Start a hosted checkout in payment mode for one pack."""
        ...

    async def expire_checkout(self, session_id: str) -> None:
        """Expire an open checkout; the processor then sends ``checkout.session.expired``."""
        ...

    async def card_summary(self, payment_intent_id: str) -> CardSummary | None:
        """Brand, last4 and expiry of the card that paid, if a card did."""
        ...

    async def refund(self, payment_intent_id: str, amount: int | None, idempotency_key: str) -> str:
        """Refund a payment in full (``amount`` None) or in part; returns the refund id. The processor then
        sends ``charge.refunded``."""
        ...

    def verify_event(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        """Check the signature header (HMAC-SHA256 of ``<t>.<payload>`` with the endpoint secret, within the
        timestamp tolerance) and parse the event; raises ``InvalidSignature`` (billing errors) otherwise."""
        ...
