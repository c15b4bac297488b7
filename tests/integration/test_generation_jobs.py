"""Generation jobs over every store (memory, SQLite, PostgreSQL) and every provider: the provider swap changes
no behaviour, retries honour Retry-After, every hand-off is in the disclosure ledger, charges settle exactly
once, and a worker killed mid-job loses nothing and leaves exactly one set of outputs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.crypto import AesGcmCipher, InMemoryKeyVault
from dreamina.adapters.images import PillowMediaRenderer
from dreamina.adapters.memory.generation import ManualJobQueue, RecordingCharges
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.providers.offline import OfflineRendererProvider
from dreamina.adapters.providers.openai import OpenAIImagesProvider
from dreamina.adapters.providers.replicate import ReplicateProvider
from dreamina.adapters.providers.runway import RunwayProvider
from dreamina.domain.generation.failures import (
    REASON_MISCONFIGURED,
    REASON_REFUSED,
    REASON_RESTRICTED,
    REASON_UNAVAILABLE,
)
from dreamina.domain.generation.generations import Generations
from dreamina.domain.generation.rules import GenerationRules, outputs_prefix
from dreamina.domain.generation.runner import GenerationRunner
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.privacy.keyring import Keyrings, SubjectKeyring
from dreamina.ports.consent import ImprovementChoice, ImprovementMethod
from dreamina.ports.generation import (
    GenerationKind,
    GenerationStatus,
    ModelProvider,
    Upload,
)
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.vendor_emulators import (
    TOKEN,
    OpenAIEmulator,
    ReplicateEmulator,
    RunwayEmulator,
    VendorEmulator,
    png,
)
from tests.provenance import session_credentials

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way up handles it."""


class CrashingStore(InMemoryObjectStore):
    """Dies while writing the ``crash_on``-th output stream (its first chunk sent: an unfinished upload stays, as
    on S3), after the earlier outputs were stored."""

    def __init__(self, crash_on: int | None = None) -> None:
        super().__init__()
        self.crash_on = crash_on
        self.streams = 0

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> int:
        self.streams += 1
        if self.crash_on is not None and self.streams == self.crash_on:
            self.crash_on = None
            return await super().put_stream(key, _dies_after_first_chunk(chunks), content_type)
        return await super().put_stream(key, chunks, content_type)


async def _dies_after_first_chunk(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk
        break
    raise WorkerKilled


@dataclass
class World:
    uow: UnitOfWorkFactory
    store: CrashingStore
    queue: ManualJobQueue
    charges: RecordingCharges
    vault: InMemoryKeyVault
    clock: MovableClock
    subject: UUID
    emulator: VendorEmulator | None
    providers: dict[GenerationKind, ModelProvider]

    def ports(self, providers: dict[GenerationKind, ModelProvider] | None, rules: dict[str, Any]) -> dict[str, Any]:
        return {
            "uow": self.uow,
            "keyrings": Keyrings(self.vault, AesGcmCipher(), self.clock),
            "clock": self.clock,
            "store": self.store,
            "providers": providers or self.providers,
            "queue": self.queue,
            "charges": self.charges,
            "rules": GenerationRules(max_poll_interval_seconds=0, **rules),
        }

    def generations(self, providers: dict[GenerationKind, ModelProvider] | None = None, **rules: Any) -> Generations:
        return Generations(**self.ports(providers, rules))

    def runner(self, providers: dict[GenerationKind, ModelProvider] | None = None, **rules: Any) -> GenerationRunner:
        return GenerationRunner(**self.ports(providers, rules), credentials=session_credentials(self.clock))

    async def reference(self) -> UUID:
        upload = Upload(uuid.uuid4(), self.subject, f"uploads/{self.subject}/r.png", "image/png", 16, 16, 1, START)
        await self.store.put(upload.object_key, png(), "image/png")
        async with self.uow() as uow:
            await uow.uploads.add(upload)
            await uow.commit()
        return upload.id


def make_providers(name: str) -> tuple[dict[GenerationKind, ModelProvider], VendorEmulator | None]:
    offline = OfflineRendererProvider(PillowMediaRenderer())
    providers: dict[GenerationKind, ModelProvider] = {GenerationKind.IMAGE: offline, GenerationKind.VIDEO: offline}
    emulator: VendorEmulator | None = None
    if name == "openai":
        emulator = OpenAIEmulator()
        providers[GenerationKind.IMAGE] = OpenAIImagesProvider(TOKEN, transport=emulator.transport)
    elif name == "replicate":
        emulator = ReplicateEmulator()
        providers[GenerationKind.IMAGE] = ReplicateProvider(TOKEN, transport=emulator.transport, poll_seconds=0)
    elif name == "runway":
        emulator = RunwayEmulator()
        providers[GenerationKind.VIDEO] = RunwayProvider(TOKEN, transport=emulator.transport, poll_seconds=0)
    return providers, emulator


async def make_world(uow_factory: UnitOfWorkFactory, provider: str, store: CrashingStore | None = None) -> World:
    vault, clock = InMemoryKeyVault(), MovableClock(START)
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        await SubjectKeyring(uow.subject_keys, vault, AesGcmCipher(), clock).create(subject)
        await uow.commit()
    providers, emulator = make_providers(provider)
    return World(
        uow_factory,
        store or CrashingStore(),
        ManualJobQueue(),
        RecordingCharges(),
        vault,
        clock,
        subject,
        emulator,
        providers,
    )


def kind_for(provider: str) -> str:
    return "video" if provider == "runway" else "image"


PROVIDERS = ["offline", "openai", "replicate", "runway"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_swapping_the_provider_changes_no_behaviour(uow_factory: UnitOfWorkFactory, provider: str) -> None:
    world = await make_world(uow_factory, provider)
    generations, runner = world.generations(), world.runner()
    kind = kind_for(provider)
    reference = await world.reference()
    submitted = await generations.submit(
        world.subject,
        GenerationRequest(
            kind=kind, prompt="a quiet harbour", reference_upload_ids=[reference], count=2, duration_seconds=5
        ),
    )
    assert submitted.status is GenerationStatus.QUEUED
    assert world.queue.enqueued == [(submitted.id, 0, 0.0)]  # ids only
    await world.queue.drain(runner.run)

    view = await generations.get(world.subject, submitted.id)
    assert view.status is GenerationStatus.SUCCEEDED
    assert len(view.outputs) == (2 if kind == "image" else 1)
    assert all(o.content_type == ("image/png" if kind == "image" else "video/mp4") for o in view.outputs)
    stored = await world.store.list(outputs_prefix(world.subject, submitted.id))
    assert len(stored) == len(view.outputs)
    assert world.charges.calls == [("reserve", submitted.id), ("capture", submitted.id)]
    async with world.uow() as uow:
        disclosures = await uow.disclosures.list_for_subject(world.subject)
    if provider == "offline":
        assert disclosures == []  # nothing left the process
    else:
        [disclosure] = disclosures
        assert (disclosure.processor, disclosure.purpose, disclosure.categories) == (
            provider,
            "generate_content",
            ("content",),
        )
        assert disclosure.reference == str(submitted.id)


@pytest.mark.parametrize("fault", [None, "refusal"])
@pytest.mark.parametrize("provider", ["openai", "replicate", "runway"])
async def test_the_disclosure_is_committed_before_the_request_leaves(
    uow_factory: UnitOfWorkFactory, provider: str, fault: str | None
) -> None:
    """G10 ordering: when the vendor receives the prompt, the ledger entry is already committed (another unit of
    work sees it), refused prompts included (the vendor read them all the same)."""
    world = await make_world(uow_factory, provider)
    assert world.emulator is not None
    committed_on_arrival: list[int] = []

    async def look(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.host != "cdn.example" and not request.url.path.endswith("cancel"):
            async with world.uow() as uow:  # a unit of work of its own sees only what was committed
                committed_on_arrival.append(len(await uow.disclosures.list_for_subject(world.subject)))

    world.emulator.on_arrival = look
    world.emulator.fault = fault
    request = GenerationRequest(
        kind=kind_for(provider),
        prompt="a quiet harbour",
        reference_upload_ids=[await world.reference()],
        duration_seconds=5,
    )
    submitted = await world.generations().submit(world.subject, request)
    await world.queue.drain(world.runner().run)
    assert committed_on_arrival and committed_on_arrival[0] == 1, committed_on_arrival
    view = await world.generations().get(world.subject, submitted.id)
    assert view.status is (GenerationStatus.FAILED if fault else GenerationStatus.SUCCEEDED)


@pytest.mark.parametrize("provider", ["openai", "replicate", "runway"])
async def test_429_is_retried_no_sooner_than_retry_after(uow_factory: UnitOfWorkFactory, provider: str) -> None:
    world = await make_world(uow_factory, provider)
    assert world.emulator is not None
    generations, runner = world.generations(), world.runner()
    reference = await world.reference()
    submitted = await generations.submit(
        world.subject, GenerationRequest(kind=kind_for(provider), prompt="p", reference_upload_ids=[reference])
    )
    world.queue.pending.clear()
    world.emulator.fault = "429"
    report = await runner.run(submitted.id)
    assert report.outcome == "retry" and report.delay_seconds >= 7.0
    assert world.queue.enqueued[-1] == (submitted.id, 1, report.delay_seconds)
    assert (await generations.get(world.subject, submitted.id)).status is GenerationStatus.QUEUED
    await world.queue.drain(runner.run)
    assert (await generations.get(world.subject, submitted.id)).status is GenerationStatus.SUCCEEDED
    assert [c for c, _ in world.charges.calls] == ["reserve", "capture"]


async def test_backoff_grows_and_a_provider_that_stays_down_fails_the_job(uow_factory: UnitOfWorkFactory) -> None:
    world = await make_world(uow_factory, "replicate")
    assert world.emulator is not None
    generations, runner = world.generations(max_attempts=3), world.runner(max_attempts=3)
    submitted = await generations.submit(world.subject, GenerationRequest(kind="image", prompt="p"))
    world.queue.pending.clear()
    delays = []
    for _ in range(3):
        world.emulator.fault = "500"
        report = await runner.run(submitted.id)
        delays.append(report.delay_seconds)
    view = await generations.get(world.subject, submitted.id)
    assert view.status is GenerationStatus.FAILED and view.failure_reason == REASON_UNAVAILABLE
    assert delays[:2] == [2.0, 4.0]
    assert world.charges.effective(submitted.id) == "release"


@pytest.mark.parametrize(("fault", "reason"), [("refusal", REASON_REFUSED), ("401", REASON_MISCONFIGURED)])
async def test_refusals_and_bad_credentials_fail_at_once_with_a_safe_reason(
    uow_factory: UnitOfWorkFactory, fault: str, reason: str
) -> None:
    world = await make_world(uow_factory, "openai")
    assert world.emulator is not None
    generations, runner = world.generations(), world.runner()
    submitted = await generations.submit(world.subject, GenerationRequest(kind="image", prompt="p"))
    world.emulator.fault = fault
    await world.queue.drain(runner.run)
    view = await generations.get(world.subject, submitted.id)
    assert (view.status, view.failure_reason, view.outputs) == (GenerationStatus.FAILED, reason, [])
    assert [c for c, _ in world.charges.calls] == ["reserve", "release"]


async def test_a_restriction_set_after_submission_stops_the_job_before_anything_is_sent(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await make_world(uow_factory, "openai")
    assert world.emulator is not None
    generations, runner = world.generations(), world.runner()
    submitted = await generations.submit(world.subject, GenerationRequest(kind="image", prompt="p"))
    async with world.uow() as uow:
        await uow.restrictions.restrict(world.subject, "art. 18 request", START)
        await uow.commit()
    await world.queue.drain(runner.run)
    view = await generations.get(world.subject, submitted.id)
    assert (view.status, view.failure_reason) == (GenerationStatus.FAILED, REASON_RESTRICTED)
    assert world.emulator.requests == []
    async with world.uow() as uow:
        assert await uow.disclosures.list_for_subject(world.subject) == []


@pytest.mark.parametrize("provider", ["offline", "replicate", "runway"])
async def test_a_worker_killed_mid_job_is_retried_and_leaves_exactly_one_set_of_outputs(
    uow_factory: UnitOfWorkFactory, provider: str
) -> None:
    store = CrashingStore(crash_on=2 if provider != "runway" else 1)
    world = await make_world(uow_factory, provider, store)
    first_worker = world.runner()
    reference = await world.reference()
    submitted = await world.generations().submit(
        world.subject,
        GenerationRequest(kind=kind_for(provider), prompt="p", reference_upload_ids=[reference], count=3),
    )
    world.queue.pending.clear()
    with pytest.raises(WorkerKilled):
        await first_worker.run(submitted.id)
    async with world.uow() as uow:
        crashed = await uow.generations.get(submitted.id)
    assert crashed is not None and crashed.status is GenerationStatus.RUNNING

    # a new process: fresh adapters (the renderer's cache is gone), same database, store and vendor
    providers, _ = make_providers("offline")
    if world.emulator is not None:
        providers = world.providers
    second_worker = world.runner(providers)
    assert await second_worker.recover() == 1
    await world.queue.drain(second_worker.run)

    view = await world.generations(providers).get(world.subject, submitted.id)
    assert view.status is GenerationStatus.SUCCEEDED
    expected = 3 if provider != "runway" else 1
    assert len(view.outputs) == expected
    assert len(await world.store.list(outputs_prefix(world.subject, submitted.id))) == expected
    assert [c for c, _ in world.charges.calls] == ["reserve", "capture"]
    if world.emulator is not None:
        created = [r for r in world.emulator.requests if r.method == "POST" and not r.url.path.endswith("cancel")]
        assert len(created) == 1  # resumed the vendor's job instead of paying for a second one
    # the killed attempt's unfinished upload holds part of an output until the generation is deleted
    assert len(await world.store.list_incomplete(outputs_prefix(world.subject, submitted.id))) == 1
    await world.generations(providers).delete(world.subject, submitted.id)
    assert await world.store.list_incomplete(f"outputs/{world.subject}") == []


async def test_a_job_whose_runs_keep_dying_fails_with_a_refund_once_past_its_attempt_budget(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """A job that kills its worker every time (never reaching the provider's retry path) still ends: the run after
    the last attempt fails it and releases the credits, instead of re-queueing it for ever."""
    world = await make_world(uow_factory, "offline", CrashingStore())
    generations = world.generations(max_attempts=2)
    submitted = await generations.submit(world.subject, GenerationRequest(kind="image", prompt="p"))
    world.queue.pending.clear()
    for _ in range(2):
        world.store.crash_on, world.store.streams = 1, 0
        with pytest.raises(WorkerKilled):
            await world.runner(max_attempts=2).run(submitted.id)
    report = await world.runner(max_attempts=2).run(submitted.id)
    view = await generations.get(world.subject, submitted.id)
    assert (report.outcome, view.status, view.failure_reason) == (
        GenerationStatus.FAILED,
        GenerationStatus.FAILED,
        REASON_UNAVAILABLE,
    )
    assert world.charges.effective(submitted.id) == "release"


async def test_cancel_before_the_worker_runs_sends_nothing(uow_factory: UnitOfWorkFactory) -> None:
    world = await make_world(uow_factory, "replicate")
    assert world.emulator is not None
    generations, runner = world.generations(), world.runner()
    submitted = await generations.submit(world.subject, GenerationRequest(kind="image", prompt="p"))
    view = await generations.cancel(world.subject, submitted.id)
    assert view.status is GenerationStatus.CANCELED
    await world.queue.drain(runner.run)
    assert world.emulator.requests == []
    assert world.charges.effective(submitted.id) == "release"
    assert (await generations.cancel(world.subject, submitted.id)).status is GenerationStatus.CANCELED
    assert [c for c, _ in world.charges.calls] == ["reserve", "release"]


async def test_delete_asks_a_vendor_that_supports_it_to_delete_and_audits_the_outcome(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = await make_world(uow_factory, "runway")
    assert world.emulator is not None
    generations, runner = world.generations(), world.runner()
    reference = await world.reference()
    async with world.uow() as uow:  # allowed: Runway keeps the task until we ask (else it goes once stored)
        await uow.improvement_choices.add(
            ImprovementChoice(uuid.uuid4(), world.subject, True, ImprovementMethod.API, 1, "0" * 64, START)
        )
        await uow.commit()
    submitted = await generations.submit(
        world.subject, GenerationRequest(kind="video", prompt="p", reference_upload_ids=[reference])
    )
    await world.queue.drain(runner.run)
    assert world.emulator.jobs
    await generations.delete(world.subject, submitted.id)
    assert world.emulator.jobs == {}
    assert any(r.method == "DELETE" for r in world.emulator.requests)
    assert await world.store.list(f"outputs/{world.subject}") == []
    assert await world.store.list(f"uploads/{world.subject}") == []
    async with world.uow() as uow:
        events = await uow.audit.list_for_subject(world.subject)
        assert await uow.uploads.get(reference) is None
    assert sorted((e.action, e.reason or "") for e in events) == [
        ("generation_deleted", ""),
        ("provider_deletion", "deleted"),
    ]
