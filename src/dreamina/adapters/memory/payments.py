"""In-memory fake of the payment processor: the sandbox's engine, posing as Stripe, recording every call."""

from __future__ import annotations

from dreamina.adapters.payments.sandbox import LocalPaymentSandbox
from dreamina.domain.billing.errors import PaymentProcessorUnavailable
from dreamina.ports.clock import Clock
from dreamina.ports.payments import CheckoutRequest, HostedCheckout


class InMemoryPaymentProcessor(LocalPaymentSandbox):
    """Behaves like the sandbox, but reports itself as the ``stripe`` processor (so disclosures are recorded),
    keeps what it was sent in ``customers_created`` / ``customers_deleted`` / ``checkouts``, and fails every
    call while ``unavailable`` is set."""

    def __init__(
        self, *, secret: str, clock: Clock, tolerance_seconds: int = 300, processor: str | None = "stripe"
    ) -> None:
        super().__init__(
            secret=secret,
            clock=clock,
            checkout_base_url="https://checkout.invalid/pay",
            tolerance_seconds=tolerance_seconds,
            processor=processor,
        )
        self.customers_created: list[tuple[str, str | None]] = []
        self.customers_deleted: list[str] = []
        self.checkouts: list[CheckoutRequest] = []
        self.unavailable = False

    def _check(self) -> None:
        if self.unavailable:
            raise PaymentProcessorUnavailable("the fake processor is set to be unavailable")

    async def create_customer(self, reference: str, email: str | None) -> str:
        self._check()
        self.customers_created.append((reference, email))
        return await super().create_customer(reference, email)

    async def delete_customer(self, customer_id: str) -> bool:
        self._check()
        self.customers_deleted.append(customer_id)
        return await super().delete_customer(customer_id)

    async def create_checkout(self, request: CheckoutRequest) -> HostedCheckout:
        self._check()
        self.checkouts.append(request)
        return await super().create_checkout(request)
