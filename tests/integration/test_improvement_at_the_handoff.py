"""The "use my content to improve the service" control at the outbound port (policy section 5), on every store
(memory, SQLite, PostgreSQL) and every third-party provider: each hand-off's disclosure records whether improvement
use was allowed, the adapter receives the same answer, the vendor is sent only its documented fields, and where the
vendor's API offers a zero-retention means (Runway's task deletion) it is used unless the subject allowed
improvement use. An objection to ``product_improvement`` wins over the choice."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import ImprovementChoice, ImprovementMethod, Objection
from dreamina.ports.generation import GenerationKind, GenerationStatus, ProviderJob, ProviderRequest
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from tests.integration.test_generation_jobs import START, World, kind_for, make_world


async def choose(uow_factory: UnitOfWorkFactory, subject: UUID, allowed: bool) -> None:
    async with uow_factory() as uow:
        await uow.improvement_choices.add(
            ImprovementChoice(uuid.uuid4(), subject, allowed, ImprovementMethod.API, 1, "0" * 64, START)
        )
        await uow.commit()


def record_requests(world: World) -> list[ProviderRequest]:
    """Wraps the world's third-party provider so the test sees each request the adapter is given."""
    seen: list[ProviderRequest] = []
    for kind, provider in list(world.providers.items()):
        if provider.capabilities.processor is None:
            continue
        submit = provider.submit

        async def recording(request: ProviderRequest, submit: object = submit) -> ProviderJob:
            seen.append(request)
            return await submit(request)  # type: ignore[operator]

        provider.submit = recording  # type: ignore[method-assign]
        world.providers[kind] = provider
    return seen


async def run_one(world: World, provider: str) -> UUID:
    generations, runner = world.generations(), world.runner()
    reference = await world.reference()
    submitted = await generations.submit(
        world.subject,
        GenerationRequest(kind=kind_for(provider), prompt="a quiet harbour", reference_upload_ids=[reference]),
    )
    await world.queue.drain(runner.run)
    assert (await generations.get(world.subject, submitted.id)).status is GenerationStatus.SUCCEEDED
    return submitted.id


STANCES = {
    "default": False,  # never chose: off
    "allowed": True,
    "allowed_then_off": False,
    "allowed_but_objected": False,  # the objection wins over the choice
}


@pytest.mark.parametrize("stance", list(STANCES))
@pytest.mark.parametrize("provider", ["openai", "replicate", "runway"])
async def test_each_hand_off_records_and_carries_the_improvement_choice(
    uow_factory: UnitOfWorkFactory, provider: str, stance: str
) -> None:
    world = await make_world(uow_factory, provider)
    assert world.emulator is not None
    if stance != "default":
        await choose(uow_factory, world.subject, True)
    if stance == "allowed_then_off":
        await choose(uow_factory, world.subject, False)
    if stance == "allowed_but_objected":
        async with uow_factory() as uow:
            await uow.objections.put(Objection(world.subject, Purpose.PRODUCT_IMPROVEMENT, True, START))
            await uow.commit()
    seen = record_requests(world)
    generation = await run_one(world, provider)
    expected = STANCES[stance]

    [request] = seen
    assert request.improvement_allowed is expected
    async with uow_factory() as uow:
        [disclosure] = await uow.disclosures.list_for_subject(world.subject)
        audited = [(e.action, e.reason) for e in await uow.audit.list_for_subject(world.subject)]
    assert (disclosure.processor, disclosure.reference) == (provider, str(generation))
    assert disclosure.improvement_allowed is expected
    # the vendor got its documented fields only (its emulation refuses others), the same whatever the choice
    [body] = world.emulator.bodies
    assert "user" not in body
    if provider == "runway":
        # Runway's API offers deletion of a finished task: used at once unless improvement use was allowed
        assert bool(world.emulator.jobs) is expected
        assert (("provider_deletion", "deleted") in audited) is not expected
    else:
        assert "provider_deletion" not in [action for action, _ in audited]


async def test_the_offline_renderer_records_no_disclosure_and_deletes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    world = await make_world(uow_factory, "offline")
    await run_one(world, "offline")
    async with uow_factory() as uow:
        assert await uow.disclosures.list_for_subject(world.subject) == []
        assert await uow.audit.list_for_subject(world.subject) == []
    assert world.providers[GenerationKind.IMAGE].capabilities.processor is None
