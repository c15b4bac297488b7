"""The local payment sandbox (embedded profile): a hosted-checkout page served by the app itself.

It stands in for Stripe end to end: checkout sessions with a URL, a page where a newcomer pays with a test card
number, and the same signed, Stripe-shaped events (``checkout.session.completed``, ``checkout.session.expired``,
``checkout.session.async_payment_succeeded|failed`` for a delayed debit, ``charge.refunded``,
``charge.dispute.created|closed``) delivered to the same verification and handling code. What is
typed on the page is used to decide success or decline and to derive brand, last4 and expiry; the number and the
CVC are dropped before the call returns and stored nowhere. Checkout sessions and the payment made on each live in
the database (``sandbox_checkout_sessions``, through the unit of work), so one opened before a restart can still be
paid after it; customers, refund idempotency keys and disputes are simulations kept in this process. Nothing leaves
the machine, so no processor receives personal data.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from dreamina.adapters.logs import get_logger
from dreamina.adapters.payments import events
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.clock import Clock
from dreamina.ports.payments import CardSummary, CheckoutRequest, HostedCheckout, ProcessorEvent, SandboxSession
from dreamina.ports.unit_of_work import UnitOfWorkFactory

log = get_logger("dreamina.payments.sandbox")

EventSink = Callable[[bytes, str], Awaitable[object]]

DECLINED = {
    "4000000000000002": "Your card was declined.",
    "4000000000009995": "Your card has insufficient funds.",
}
CHECKOUT_LIFETIME = timedelta(hours=24)


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
        uow: UnitOfWorkFactory | None = None,
    ) -> None:
        self.processor = processor
        if uow is None:  # no database given (tests, the fake): a private in-memory store of the same contract
            from dreamina.adapters.memory.database import InMemoryDatabase
            from dreamina.adapters.memory.sandbox import STORES

            uow = InMemoryDatabase([STORES]).unit_of_work
        self._uow = uow
        self._secret = secret
        self._clock = clock
        self._base = checkout_base_url.rstrip("/")
        self._tolerance = tolerance_seconds
        self._customers: dict[str, str] = {}  # customer id -> our reference (never the email)
        self._customer_by_reference: dict[str, str] = {}
        self._refunds: dict[str, str] = {}  # idempotency key -> payment intent (refunds replayed in this process)
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
        async with self._uow() as uow:
            session = await uow.sandbox_sessions.by_reference(request.reference)
            if session is None:
                now = self._clock.now()
                session = SandboxSession(
                    id=events.new_id("cs_test"),
                    reference=request.reference,
                    customer_id=request.customer_id,
                    pack_id=request.pack_id,
                    description=request.description,
                    amount=request.amount,
                    currency=request.currency,
                    success_url=request.success_url,
                    cancel_url=request.cancel_url,
                    created_at=now,
                    expires_at=now + CHECKOUT_LIFETIME,
                )
                await uow.sandbox_sessions.add(session)
                await uow.commit()
        return HostedCheckout(session_id=session.id, url=self.checkout_url(session.id), expires_at=session.expires_at)

    async def expire_checkout(self, session_id: str) -> None:
        session = await self._open_session(session_id)
        session.status = "expired"
        await self._save(session, "open", "unpaid")
        await self._emit("checkout.session.expired", self._session_object(session))

    async def card_summary(self, payment_intent_id: str) -> CardSummary | None:
        session = await self._paid(payment_intent_id)
        return None if session is None else session.card

    async def refund(self, payment_intent_id: str, amount: int | None, idempotency_key: str) -> str:
        if self._refunds.get(idempotency_key) == payment_intent_id:
            return f"re_{idempotency_key}"
        session = await self._paid(payment_intent_id)
        if session is None:
            raise NotFound("no such payment")
        left = session.amount - session.amount_refunded
        wanted = left if amount is None else amount
        if not 0 < wanted <= left:
            raise NotFound("nothing left to refund")
        session.amount_refunded += wanted
        await self._save(session, "complete", "paid")
        self._refunds[idempotency_key] = payment_intent_id
        await self._emit("charge.refunded", self._charge_object(session))
        return f"re_{idempotency_key}"

    def verify_event(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        events.verify(payload, signature, self._secret, self._clock.now(), self._tolerance)
        return events.parse(payload)

    # -- the hosted page's actions --------------------------------------------------------------------------------

    def checkout_url(self, session_id: str) -> str:
        return f"{self._base}/{session_id}"

    async def describe(self, session_id: str) -> tuple[str, int, str, str]:
        """``(description, amount, currency, status)`` of a session, for the page."""
        async with self._uow() as uow:
            session = await uow.sandbox_sessions.get(session_id)
        if session is None:
            raise NotFound("no such checkout session")
        status = session.status
        if status == "open" and self._clock.now() >= session.expires_at:
            status = "expired"
        return session.description, session.amount, session.currency, status

    async def pay(self, session_id: str, number: str, exp_month: str, exp_year: str, cvc: str) -> PaymentAttempt:
        """Pay an open session with a test card. Only brand, last4 and expiry survive this call."""
        session = await self._open_session(session_id)
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
            return PaymentAttempt("declined", DECLINED[digits], session.cancel_url)
        session.card_brand, session.card_last4 = events.card_brand(digits), digits[-4:]
        session.card_exp_month, session.card_exp_year = month, year
        del digits, number, cvc
        session.status, session.payment_status = "complete", "paid"
        session.payment_intent_id, session.charge_id = events.new_id("pi"), events.new_id("ch")
        await self._save(session, "open", "unpaid")
        await self._emit("checkout.session.completed", self._session_object(session))
        return PaymentAttempt("succeeded", "Payment received.", session.success_url)

    async def debit(self, session_id: str, iban: str) -> PaymentAttempt:
        """The page's SEPA debit: authorised, then answered by the sandbox's bank at once (two events, in order)."""
        session = await self._open_session(session_id)
        if iban not in events.SEPA_TEST_IBANS:
            return PaymentAttempt("invalid", "The sandbox takes only its test IBANs.", None)
        await self.pay_by_debit(session_id, iban)
        await self.settle_debit(session_id)
        if iban == events.SEPA_TEST_IBANS[0]:
            return PaymentAttempt("succeeded", "Debit confirmed by the bank.", session.success_url)
        return PaymentAttempt("declined", "The bank did not complete the debit.", session.cancel_url)

    async def pay_by_debit(self, session_id: str, iban: str) -> None:
        """Authorise a delayed SEPA debit from one of Stripe's test IBANs: the session completes ``unpaid``."""
        session = await self._open_session(session_id)
        if iban not in events.SEPA_TEST_IBANS:
            raise NotFound("the sandbox takes only Stripe's test IBANs")
        session.status, session.payment_intent_id = "complete", events.new_id("pi")
        session.pending_debit = "succeeds" if iban == events.SEPA_TEST_IBANS[0] else "fails"
        await self._save(session, "open", "unpaid")
        await self._emit("checkout.session.completed", self._session_object(session))

    async def settle_debit(self, session_id: str) -> None:
        """The bank answers a delayed debit: ``async_payment_succeeded`` or ``async_payment_failed``."""
        async with self._uow() as uow:
            session = await uow.sandbox_sessions.get(session_id)
        if session is None or session.pending_debit is None:
            raise NotFound("no debit of this checkout awaits the bank")
        succeeded, session.pending_debit = session.pending_debit == "succeeds", None
        if succeeded:
            session.payment_status, session.charge_id = "paid", events.new_id("py")
        await self._save(session, "complete", "unpaid")
        kind = "succeeded" if succeeded else "failed"
        await self._emit(f"checkout.session.async_payment_{kind}", self._session_object(session))

    async def dispute(self, payment_intent_id: str, amount: int | None = None) -> None:
        """Simulate the cardholder disputing a payment (``charge.dispute.created``)."""
        session = await self._paid(payment_intent_id)
        if session is None:
            raise NotFound("no such payment")
        dispute: dict[str, object] = {
            "id": events.new_id("dp"),
            "object": "dispute",
            "amount": session.amount if amount is None else amount,
            "currency": session.currency,
            "charge": session.charge_id,
            "payment_intent": payment_intent_id,
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

    async def _open_session(self, session_id: str) -> SandboxSession:
        async with self._uow() as uow:
            session = await uow.sandbox_sessions.get(session_id)
        if session is None or session.status != "open" or self._clock.now() >= session.expires_at:
            raise NotFound("no open checkout session has this id")
        return session

    async def _paid(self, payment_intent_id: str) -> SandboxSession | None:
        async with self._uow() as uow:
            session = await uow.sandbox_sessions.by_payment_intent(payment_intent_id)
        return session if session is not None and session.payment_status == "paid" else None

    async def _save(self, session: SandboxSession, from_status: str, from_payment_status: str) -> None:
        """Store the session's new state if nobody changed it meanwhile (a second payment of it finds it gone)."""
        async with self._uow() as uow:
            if not await uow.sandbox_sessions.update(
                session, from_status=from_status, from_payment_status=from_payment_status
            ):
                raise NotFound("no open checkout session has this id")
            await uow.commit()

    def _session_object(self, session: SandboxSession) -> dict[str, object]:
        return {
            "id": session.id,
            "object": "checkout.session",
            "mode": "payment",
            "amount_total": session.amount,
            "currency": session.currency,
            "customer": session.customer_id,
            "client_reference_id": session.reference,
            "metadata": {"pack_id": session.pack_id},
            "payment_intent": session.payment_intent_id,
            "payment_status": session.payment_status,
            "status": session.status,
            "expires_at": int(session.expires_at.timestamp()),
        }

    def _charge_object(self, session: SandboxSession) -> dict[str, object]:
        card = session.card
        return {
            "id": session.charge_id,
            "object": "charge",
            "amount": session.amount,
            "amount_refunded": session.amount_refunded,
            "currency": session.currency,
            "customer": session.customer_id,
            "payment_intent": session.payment_intent_id,
            "refunded": session.amount_refunded >= session.amount,
            "payment_method_details": {"type": "sepa_debit"}
            if card is None
            else {
                "type": "card",
                "card": {
                    "brand": card.brand,
                    "last4": card.last4,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
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
