"""Erasure calls to model providers: the data-rights saga asks each provider that ran a subject's job to forget it."""

from __future__ import annotations

from dreamina.ports.generation import DeletionOutcome, ModelProvider


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
