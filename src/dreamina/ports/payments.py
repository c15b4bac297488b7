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


@dataclass(slots=True)
class SandboxSession:
    """A checkout session of the local payment sandbox (embedded profile), with the payment made on it. Kept in the
    database so a restart loses no open checkout. Card data is limited to brand, last4 and expiry."""

    id: str
    reference: str  # our checkout reference (unique)
    customer_id: str | None
    pack_id: str
    description: str
    amount: int
    currency: str
    success_url: str
    cancel_url: str
    created_at: datetime
    expires_at: datetime
    status: str = "open"  # open | complete | expired
    payment_status: str = "unpaid"  # unpaid | paid
    pending_debit: str | None = None  # a delayed debit awaiting the bank: "succeeds" or "fails" (test IBANs only)
    payment_intent_id: str | None = None
    charge_id: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    card_exp_month: int | None = None
    card_exp_year: int | None = None
    amount_refunded: int = 0

    @property
    def card(self) -> CardSummary | None:
        if self.card_brand is None and self.card_last4 is None:
            return None
        return CardSummary(self.card_brand, self.card_last4, self.card_exp_month, self.card_exp_year)


class SandboxSessionRepository(Protocol):
    async def add(self, session: SandboxSession) -> None:
        """Raises ``Conflict`` if the id or the reference is taken."""
        ...

    async def get(self, session_id: str) -> SandboxSession | None: ...

    async def by_reference(self, reference: str) -> SandboxSession | None: ...

    async def by_payment_intent(self, payment_intent_id: str) -> SandboxSession | None: ...

    async def update(self, session: SandboxSession, *, from_status: str, from_payment_status: str) -> bool:
        """Store ``session`` if the stored one still has ``from_status`` and ``from_payment_status`` (compare and
        set: two payments of one session never both succeed); False otherwise."""
        ...

    async def delete_created_before(self, cutoff: datetime, limit: int) -> int:
        """Retention: delete at most ``limit`` of the oldest sessions opened before ``cutoff``."""
        ...

    async def count_created_before(self, cutoff: datetime) -> int: ...


class SandboxStores(Protocol):
    """The payment sandbox's sessions (empty unless the sandbox is the processor)."""

    sandbox_sessions: SandboxSessionRepository
