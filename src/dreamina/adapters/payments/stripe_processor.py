"""The Stripe adapter, on the official ``stripe`` library (``StripeClient``, async calls over httpx).

Follows Stripe's API reference:
- Customers: create https://docs.stripe.com/api/customers/create, delete https://docs.stripe.com/api/customers/delete
- Checkout Sessions in ``payment`` mode with inline ``price_data``: https://docs.stripe.com/api/checkout/sessions/create,
  expire https://docs.stripe.com/api/checkout/sessions/expire
- PaymentIntents with ``expand[]=latest_charge`` for the card summary (``payment_method_details.card``):
  https://docs.stripe.com/api/payment_intents/retrieve, https://docs.stripe.com/api/charges/object
- Refunds: https://docs.stripe.com/api/refunds/create
- Idempotent requests (``Idempotency-Key``): https://docs.stripe.com/api/idempotent_requests
- Webhook signatures: https://docs.stripe.com/webhooks#verify-manually (checked in :mod:`.events` against our
  clock, the same code the sandbox's events go through)
- Events handled (parsed in :mod:`.events`): https://docs.stripe.com/api/events/types;
  ``checkout.session.completed`` and, for delayed methods, ``checkout.session.async_payment_succeeded|failed``
  (https://docs.stripe.com/checkout/fulfillment); ``charge.refunded``; ``charge.dispute.created|closed`` with the
  Dispute object's ``status`` (https://docs.stripe.com/api/disputes/object)
Only the email is sent (to create the customer); card details are typed on Stripe's hosted page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import stripe

from dreamina.adapters.payments import events
from dreamina.domain.billing.errors import PaymentProcessorUnavailable
from dreamina.ports.clock import Clock
from dreamina.ports.payments import CardSummary, CheckoutRequest, HostedCheckout, ProcessorEvent


class StripePaymentProcessor:
    """:class:`~dreamina.ports.payments.PaymentProcessor` over Stripe's API."""

    processor: str | None = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        clock: Clock,
        tolerance_seconds: int = 300,
        api_base: str | None = None,
        max_network_retries: int = 2,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._clock = clock
        self._tolerance = tolerance_seconds
        self._http = stripe.HTTPXClient(timeout=20)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=self._http,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def _call(self, request: Any) -> Any:
        try:
            return await request
        except stripe.InvalidRequestError:
            raise
        except stripe.StripeError as error:
            raise PaymentProcessorUnavailable(
                "the payment processor did not complete the request", processor_status=error.http_status
            ) from None

    async def create_customer(self, reference: str, email: str | None) -> str:
        params: dict[str, Any] = {"metadata": {"dreamina_subject": reference}}
        if email:
            params["email"] = email
        customer = await self._call(
            self._client.v1.customers.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"customer-{reference}"},
            )
        )
        return str(customer.id)

    async def delete_customer(self, customer_id: str) -> bool:
        try:
            await self._call(self._client.v1.customers.delete_async(customer_id))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return False
            raise PaymentProcessorUnavailable("the processor refused to delete the customer") from None
        return True

    async def create_checkout(self, request: CheckoutRequest) -> HostedCheckout:
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": request.reference,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency,
                        "unit_amount": request.amount,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "metadata": {"pack_id": request.pack_id},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if request.customer_id:
            params["customer"] = request.customer_id
        try:
            session = await self._call(
                self._client.v1.checkout.sessions.create_async(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": f"checkout-{request.reference}"},
                )
            )
        except stripe.InvalidRequestError:
            raise PaymentProcessorUnavailable("the processor refused the checkout") from None
        return HostedCheckout(
            session_id=str(session.id),
            url=str(session.url),
            expires_at=_timestamp(session.expires_at),
        )

    async def expire_checkout(self, session_id: str) -> None:
        try:
            await self._call(self._client.v1.checkout.sessions.expire_async(session_id))
        except stripe.InvalidRequestError:
            raise PaymentProcessorUnavailable("the processor refused to expire the checkout") from None

    async def card_summary(self, payment_intent_id: str) -> CardSummary | None:
        try:
            intent = await self._call(
                self._client.v1.payment_intents.retrieve_async(payment_intent_id, params={"expand": ["latest_charge"]})
            )
        except stripe.InvalidRequestError:
            return None
        charge = _plain(intent).get("latest_charge")
        if not isinstance(charge, dict):  # not expanded, or no charge yet
            return None
        return events.card_from_details(charge.get("payment_method_details"))

    async def refund(self, payment_intent_id: str, amount: int | None, idempotency_key: str) -> str:
        params: dict[str, Any] = {"payment_intent": payment_intent_id}
        if amount is not None:
            params["amount"] = amount
        try:
            refund = await self._call(
                self._client.v1.refunds.create_async(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                )
            )
        except stripe.InvalidRequestError:
            raise PaymentProcessorUnavailable("the processor refused the refund") from None
        return str(refund.id)

    def verify_event(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        events.verify(payload, signature, self._webhook_secret, self._clock.now(), self._tolerance)
        return events.parse(payload)


def _timestamp(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def _plain(obj: Any) -> dict[str, Any]:
    """A StripeObject as plain dicts."""
    return dict(json.loads(json.dumps(obj.to_dict() if hasattr(obj, "to_dict") else obj)))
