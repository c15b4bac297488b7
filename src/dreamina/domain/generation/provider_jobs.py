"""The jobs we started at model providers: which provider a generation went to, and asking it to stop the job or
to forget it (inputs and outputs) where its API allows, with the outcome audited."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.generation import DeletionOutcome, Generation, GenerationKind, ModelProvider, ProviderError
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ProviderJobs:
    """``providers`` maps each kind to the provider configured for it; a generation names its provider."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, providers: Mapping[GenerationKind, ModelProvider]) -> None:
        self._uow = uow
        self._clock = clock
        self._providers = providers

    def provider(self, name: str) -> ModelProvider | None:
        """The configured provider called ``name``; None once it is no longer configured."""
        return next((p for p in self._providers.values() if p.name == name), None)

    async def forget_everywhere(self, generation: Generation) -> None:
        """After the generation left our stores: stop its provider job if it may still run, then have it forgotten."""
        if not generation.status.terminal:
            await self.cancel(generation)
        await self.forget(generation)

    async def cancel(self, generation: Generation) -> None:
        provider = self.provider(generation.provider)
        if provider is not None and generation.provider_job_id is not None:
            try:
                await provider.cancel(generation.provider_job_id)
            except ProviderError:
                pass  # the job is canceled on our side; the provider's copy is deleted below or expires

    async def forget(self, generation: Generation) -> None:
        provider = self.provider(generation.provider)
        if provider is None or generation.provider_job_id is None:
            return
        outcome = await self.forget_job(provider, generation.provider_job_id)
        async with self._uow() as uow:
            await uow.audit.append(
                AuditEvent(
                    id=uuid.uuid4(),
                    subject_id=generation.subject_id,
                    actor_kind=ActorKind.SYSTEM,
                    actor_id=None,
                    action="provider_deletion",
                    fields=(provider.capabilities.processor or provider.name,),
                    reason=outcome,
                    occurred_at=self._clock.now(),
                )
            )
            await uow.commit()

    async def forget_job(self, provider: ModelProvider, provider_job_id: str) -> str:
        """The outcome: a :class:`DeletionOutcome` value, or ``failed``."""
        if not provider.capabilities.supports_deletion:
            return DeletionOutcome.NOT_SUPPORTED.value
        try:
            return (await provider.delete(provider_job_id)).value
        except ProviderError:
            return "failed"
