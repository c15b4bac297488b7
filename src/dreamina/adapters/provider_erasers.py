"""Erasure calls to processors: the data-rights saga asks each provider that ran a subject's job, and the payment
processor that holds their customer, to forget it."""

from __future__ import annotations

from dreamina.ports.generation import DeletionOutcome, ModelProvider
from dreamina.ports.payments import PaymentProcessor


class ModelProviderEraser:
    """:class:`~dreamina.ports.data_rights.ProcessorEraser` over a :class:`ModelProvider`'s delete call.

    Where the vendor's API has no deletion, the outcome says so (``no_deletion_api``) and is recorded as such;
    provider errors propagate so the saga retries them with back-off.
    """

    def __init__(self, provider: ModelProvider) -> None:
        if provider.capabilities.processor is None:
            raise ValueError("a provider that runs here is no processor: it needs no erasure call")
        self._provider = provider
        self.processor = provider.capabilities.processor

    async def delete(self, reference: str | None) -> str:
        if not reference:
            return "nothing_to_delete"
        if not self._provider.capabilities.supports_deletion:
            return "no_deletion_api"
        outcome = await self._provider.delete(reference)
        return "no_deletion_api" if outcome is DeletionOutcome.NOT_SUPPORTED else outcome.value

    @property
    def supports_deletion(self) -> bool:
        """Whether the vendor's API can delete (a processor without it is told by its configured route instead)."""
        return self._provider.capabilities.supports_deletion


class PaymentCustomerEraser:
    """:class:`~dreamina.ports.data_rights.ProcessorEraser` over the payment processor's customer deletion (Stripe:
    ``DELETE /v1/customers/{id}``, https://docs.stripe.com/api/customers/delete). The billing holder deletes the
    customer first in the saga; this call confirms it is gone (``already_deleted``) or deletes what is left."""

    supports_deletion = True

    def __init__(self, processor: PaymentProcessor) -> None:
        if processor.processor is None:
            raise ValueError("a payment adapter that shares nothing is no processor")
        self._payments = processor
        self.processor = processor.processor

    async def delete(self, reference: str | None) -> str:
        if not reference:
            return "nothing_to_delete"
        return "deleted" if await self._payments.delete_customer(reference) else "already_deleted"
