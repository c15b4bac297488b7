"""The local payment sandbox (embedded profile): a hosted-checkout page served by the app itself.

It stands in for Stripe end to end: checkout sessions with a URL, a page where a newcomer pays with a test card
number, and the same signed, Stripe-shaped events (``checkout.session.completed``, ``checkout.session.expired``,
``checkout.session.async_payment_succeeded|failed`` for a delayed debit, ``charge.refunded``,
``charge.dispute.created|closed``) delivered to the same verification and handling code. What is
typed on the page is used to decide success or decline and to derive brand, last4 and expiry; the number and the
CVC are dropped before the call returns and stored nowhere. State lives in this process (sessions are short-lived
test purchases); nothing leaves the machine, so no processor receives personal data.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dreamina.adapters.logs import get_logger
from dreamina.adapters.payments import events
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.clock import Clock
from dreamina.ports.payments import CardSummary, CheckoutRequest, HostedCheckout, ProcessorEvent

log = get_logger("dreamina.payments.sandbox")

EventSink = Callable[[bytes, str], Awaitable[object]]

DECLINED = {
    "4000000000000002": "Your card was declined.",
    "4000000000009995": "Your card has insufficient funds.",
}
CHECKOUT_LIFETIME = timedelta(hours=24)


@dataclass
class _Session:
    id: str
    request: CheckoutRequest
    expires_at: datetime
    status: str = "open"
    payment_intent_id: str | None = None
    payment_status: str = "unpaid"
    debit_iban: str | None = None  # a delayed debit the bank has not answered yet (a test IBAN, never a real one)


@dataclass
class _Charge:
    id: str
    payment_intent_id: str
    amount: int
    currency: str
    customer_id: str | None
    card: CardSummary | None  # None when a debit paid
    refunded: int = 0
    refunds: dict[str, int] = field(default_factory=dict)  # idempotency key -> refund amount


@dataclass(frozen=True, slots=True)
class PaymentAttempt:
    status: str  # succeeded | declined | invalid
    message: str
    return_url: str | None


class LocalPaymentSandbox:
    """:class:`~dreamina.ports.payments.PaymentProcessor` served by the app itself (no third party)."""

    def __init__(
        self,
        *,
        secret: str,
        clock: Clock,
        checkout_base_url: str,
        tolerance_seconds: int = 300,
        processor: str | None = None,
    ) -> None:
        self.processor = processor
        self._secret = secret
        self._clock = clock
        self._base = checkout_base_url.rstrip("/")
        self._tolerance = tolerance_seconds
        self._customers: dict[str, str] = {}  # customer id -> our reference (never the email)
        self._customer_by_reference: dict[str, str] = {}
        self._sessions: dict[str, _Session] = {}
        self._sessions_by_reference: dict[str, str] = {}
        self._charges: dict[str, _Charge] = {}  # by payment intent id
        self._disputes: dict[str, dict[str, object]] = {}
        self.sent: list[tuple[bytes, str]] = []  # every signed event, in order (what a webhook endpoint received)
        self.sink: EventSink | None = None

    # -- the port -------------------------------------------------------------------------------------------------

    async def create_customer(self, reference: str, email: str | None) -> str:
        known = self._customer_by_reference.get(reference)
        if known is not None:
            return known
        customer_id = events.new_id("cus")
        self._customers[customer_id] = reference
        self._customer_by_reference[reference] = customer_id
        return customer_id

    async def delete_customer(self, customer_id: str) -> bool:
        reference = self._customers.pop(customer_id, None)
        if reference is None:
            return False
        self._customer_by_reference.pop(reference, None)
        return True

    async def create_checkout(self, request: CheckoutRequest) -> HostedCheckout:
        known = self._sessions_by_reference.get(request.reference)
        session = self._sessions.get(known) if known else None
        if session is None:
            session = _Session(
                id=events.new_id("cs_test"), request=request, expires_at=self._clock.now() + CHECKOUT_LIFETIME
            )
            self._sessions[session.id] = session
            self._sessions_by_reference[request.reference] = session.id
        return HostedCheckout(session_id=session.id, url=self.checkout_url(session.id), expires_at=session.expires_at)

    async def expire_checkout(self, session_id: str) -> None:
        session = self._open_session(session_id)
        session.status = "expired"
        await self._emit("checkout.session.expired", self._session_object(session))

    async def card_summary(self, payment_intent_id: str) -> CardSummary | None:
        charge = self._charges.get(payment_intent_id)
        return None if charge is None else charge.card

    async def refund(self, payment_intent_id: str, amount: int | None, idempotency_key: str) -> str:
        charge = self._charges.get(payment_intent_id)
        if charge is None:
            raise NotFound("no such payment")
        if idempotency_key in charge.refunds:
            return f"re_{idempotency_key}"
        wanted = charge.amount - charge.refunded if amount is None else amount
        if not 0 < wanted <= charge.amount - charge.refunded:
            raise NotFound("nothing left to refund")
        charge.refunded += wanted
        charge.refunds[idempotency_key] = wanted
        await self._emit("charge.refunded", self._charge_object(charge))
        return f"re_{idempotency_key}"

    def verify_event(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        events.verify(payload, signature, self._secret, self._clock.now(), self._tolerance)
        return events.parse(payload)

    # -- the hosted page's actions --------------------------------------------------------------------------------

    def checkout_url(self, session_id: str) -> str:
        return f"{self._base}/{session_id}"

    def describe(self, session_id: str) -> tuple[str, int, str, str]:
        """``(description, amount, currency, status)`` of a session, for the page."""
        session = self._sessions.get(session_id)
        if session is None:
            raise NotFound("no such checkout session")
        if session.status == "open" and self._clock.now() >= session.expires_at:
            session.status = "expired"
        r = session.request
        return r.description, r.amount, r.currency, session.status

    async def pay(self, session_id: str, number: str, exp_month: str, exp_year: str, cvc: str) -> PaymentAttempt:
        """Pay an open session with a test card. Only brand, last4 and expiry survive this call."""
        session = self._open_session(session_id)
        digits = "".join(ch for ch in number if ch.isdigit())
        if not events.luhn_valid(digits) or len(digits) != len("".join(ch for ch in number if not ch.isspace())):
            return PaymentAttempt("invalid", "That card number is not valid.", None)
        month = int(exp_month) if exp_month.isdigit() else 0
        year = int(exp_year) if exp_year.isdigit() else 0
        year = year + 2000 if 0 < year < 100 else year
        now = self._clock.now()
        if not 1 <= month <= 12 or (year, month) < (now.year, now.month) or year > now.year + 30:
            return PaymentAttempt("invalid", "That expiry date is not valid.", None)
        if not (cvc.isdigit() and 3 <= len(cvc) <= 4):
            return PaymentAttempt("invalid", "That security code is not valid.", None)
        if digits in DECLINED:
            return PaymentAttempt("declined", DECLINED[digits], session.request.cancel_url)
        card = CardSummary(brand=events.card_brand(digits), last4=digits[-4:], exp_month=month, exp_year=year)
        del digits, number, cvc
        r = session.request
        charge = _Charge(
            id=events.new_id("ch"),
            payment_intent_id=events.new_id("pi"),
            amount=r.amount,
            currency=r.currency,
            customer_id=r.customer_id,
            card=card,
        )
        self._charges[charge.payment_intent_id] = charge
        session.status, session.payment_status = "complete", "paid"
        session.payment_intent_id = charge.payment_intent_id
        await self._emit("checkout.session.completed", self._session_object(session))
        return PaymentAttempt("succeeded", "Payment received.", r.success_url)

    async def pay_by_debit(self, session_id: str, iban: str) -> None:
        """Authorise a delayed SEPA debit from one of Stripe's test IBANs: the session completes ``unpaid``."""
        session = self._open_session(session_id)
        if iban not in events.SEPA_TEST_IBANS:
            raise NotFound("the sandbox takes only Stripe's test IBANs")
        session.status, session.debit_iban = "complete", iban
        session.payment_intent_id = events.new_id("pi")
        await self._emit("checkout.session.completed", self._session_object(session))

    async def settle_debit(self, session_id: str) -> None:
        """The bank answers a delayed debit: ``async_payment_succeeded`` or ``async_payment_failed``."""
        session = self._sessions.get(session_id)
        if session is None or session.debit_iban is None or session.payment_intent_id is None:
            raise NotFound("no debit of this checkout awaits the bank")
        succeeded, session.debit_iban = session.debit_iban == events.SEPA_TEST_IBANS[0], None
        if not succeeded:
            await self._emit("checkout.session.async_payment_failed", self._session_object(session))
            return
        r = session.request
        self._charges[session.payment_intent_id] = _Charge(
            id=events.new_id("py"),
            payment_intent_id=session.payment_intent_id,
            amount=r.amount,
            currency=r.currency,
            customer_id=r.customer_id,
            card=None,
        )
        session.payment_status = "paid"
        await self._emit("checkout.session.async_payment_succeeded", self._session_object(session))

    async def dispute(self, payment_intent_id: str, amount: int | None = None) -> None:
        """Simulate the cardholder disputing a payment (``charge.dispute.created``)."""
        charge = self._charges.get(payment_intent_id)
        if charge is None:
            raise NotFound("no such payment")
        dispute: dict[str, object] = {
            "id": events.new_id("dp"),
            "object": "dispute",
            "amount": charge.amount if amount is None else amount,
            "currency": charge.currency,
            "charge": charge.id,
            "payment_intent": charge.payment_intent_id,
            "reason": "fraudulent",
            "status": "needs_response",
        }
        self._disputes[str(dispute["id"])] = dispute
        await self._emit("charge.dispute.created", dict(dispute))

    async def close_dispute(self, dispute_id: str, status: str) -> None:
        """Simulate the network's decision (``charge.dispute.closed`` with ``won`` or ``lost``)."""
        dispute = self._disputes.get(dispute_id)
        if dispute is None or status not in ("won", "lost", "warning_closed"):
            raise NotFound("no such dispute")
        dispute["status"] = status
        await self._emit("charge.dispute.closed", dict(dispute))

    # -- internals ------------------------------------------------------------------------------------------------

    def _open_session(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None or session.status != "open" or self._clock.now() >= session.expires_at:
            raise NotFound("no open checkout session has this id")
        return session

    def _session_object(self, session: _Session) -> dict[str, object]:
        r = session.request
        return {
            "id": session.id,
            "object": "checkout.session",
            "mode": "payment",
            "amount_total": r.amount,
            "currency": r.currency,
            "customer": r.customer_id,
            "client_reference_id": r.reference,
            "metadata": {"pack_id": r.pack_id},
            "payment_intent": session.payment_intent_id,
            "payment_status": session.payment_status,
            "status": session.status,
            "expires_at": int(session.expires_at.timestamp()),
        }

    def _charge_object(self, charge: _Charge) -> dict[str, object]:
        return {
            "id": charge.id,
            "object": "charge",
            "amount": charge.amount,
            "amount_refunded": charge.refunded,
            "currency": charge.currency,
            "customer": charge.customer_id,
            "payment_intent": charge.payment_intent_id,
            "refunded": charge.refunded >= charge.amount,
            "payment_method_details": {"type": "sepa_debit"}
            if charge.card is None
            else {
                "type": "card",
                "card": {
                    "brand": charge.card.brand,
                    "last4": charge.card.last4,
                    "exp_month": charge.card.exp_month,
                    "exp_year": charge.card.exp_year,
                },
            },
        }

    async def _emit(self, event_type: str, obj: dict[str, object]) -> None:
        created = int(self._clock.now().timestamp())
        payload = events.envelope(event_type, obj, created)
        header = events.sign(payload, self._secret, created)
        self.sent.append((payload, header))
        del self.sent[:-1000]
        await self._deliver(payload, header)

    async def _deliver(self, payload: bytes, header: str) -> None:
        if self.sink is None:
            return
        try:
            await self.sink(payload, header)
        except Exception as error:  # logged, not retried: the sandbox does not redeliver events
            log.warning(
                "sandbox_event_not_delivered", event_type=json.loads(payload)["type"], error=type(error).__name__
            )
