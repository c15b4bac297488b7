"""One contract for every ModelProvider: the offline renderer directly, each vendor adapter against an emulation
of its vendor's documented HTTP API. Failure cases need a vendor that can fail, so the renderer (which runs in
this process) is exempt from those alone."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import av
import httpx
import pytest
from PIL import Image

from dreamina.adapters.images import PillowMediaRenderer
from dreamina.adapters.memory.generation import drain
from dreamina.adapters.providers.offline import OfflineRendererProvider
from dreamina.adapters.providers.openai import OpenAIImagesProvider
from dreamina.adapters.providers.replicate import ReplicateProvider
from dreamina.adapters.providers.runway import RunwayProvider
from dreamina.bootstrap import declared_data_map
from dreamina.ports.generation import (
    DeletionOutcome,
    GenerationKind,
    ModelProvider,
    ProviderAuthFailed,
    ProviderBadResponse,
    ProviderJob,
    ProviderJobNotFound,
    ProviderJobState,
    ProviderRefused,
    ProviderRequest,
    ProviderUnavailable,
    ReferenceImage,
)
from tests.contract.vendor_emulators import (
    RETRY_AFTER,
    TOKEN,
    OpenAIEmulator,
    ReplicateEmulator,
    RunwayEmulator,
    VendorEmulator,
    png,
)

DATA_MAP = declared_data_map()


@dataclass
class Harness:
    provider: ModelProvider
    emulator: VendorEmulator | None

    @property
    def kind(self) -> GenerationKind:
        return (
            GenerationKind.IMAGE if GenerationKind.IMAGE in self.provider.capabilities.kinds else GenerationKind.VIDEO
        )

    def request(
        self, count: int = 2, prompt: str = "a red fox in snow", improvement_allowed: bool = False
    ) -> ProviderRequest:
        caps = self.provider.capabilities
        reference = ReferenceImage(png((200, 10, 10), (32, 24)), "image/png", 32, 24)
        references = (reference,) * max(caps.min_references, min(1, caps.max_references))
        return ProviderRequest(
            idempotency_key="gen-1",
            kind=self.kind,
            prompt=prompt,
            references=references,
            aspect_ratio="16:9",
            count=count if self.kind is GenerationKind.IMAGE else 1,
            duration_seconds=2,
            seed=42,
            improvement_allowed=improvement_allowed,
        )

    def needs_vendor(self) -> VendorEmulator:
        if self.emulator is None:
            pytest.skip("the offline renderer runs in this process: there is no vendor to fail")
        return self.emulator


@pytest.fixture(params=["offline", "openai", "replicate", "runway"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    name = request.param
    if name == "offline":
        yield Harness(OfflineRendererProvider(PillowMediaRenderer()), None)
        return
    emulator: VendorEmulator
    provider: OpenAIImagesProvider | ReplicateProvider | RunwayProvider
    if name == "openai":
        emulator = OpenAIEmulator()
        provider = OpenAIImagesProvider(TOKEN, transport=emulator.transport)
    elif name == "replicate":
        emulator = ReplicateEmulator()
        provider = ReplicateProvider(TOKEN, transport=emulator.transport, poll_seconds=0)
    else:
        emulator = RunwayEmulator()
        provider = RunwayProvider(TOKEN, transport=emulator.transport, poll_seconds=0)
    yield Harness(provider, emulator)
    await provider.aclose()


async def run_to_end(provider: ModelProvider, request: ProviderRequest) -> tuple[ProviderJob, list[ProviderJobState]]:
    job = await provider.submit(request)
    seen = [job.state]
    for _ in range(50):
        if job.state not in (ProviderJobState.PENDING, ProviderJobState.RUNNING):
            return job, seen
        job = await provider.status(job.provider_job_id)
        seen.append(job.state)
    raise AssertionError("the job never finished")


def assert_media(kind: GenerationKind, content_type: str, data: bytes) -> None:
    if kind is GenerationKind.IMAGE:
        assert content_type.startswith("image/")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.format in ("PNG", "JPEG", "WEBP")
    else:
        assert content_type == "video/mp4"
        with av.open(io.BytesIO(data)) as container:
            assert container.streams.video[0].frames > 0


def test_capabilities_are_declared(harness: Harness) -> None:
    caps = harness.provider.capabilities
    assert caps.kinds and caps.retention
    assert 0 <= caps.min_references <= caps.max_references
    known = {p.id for p in DATA_MAP.processors}
    assert caps.processor is None or caps.processor in known  # a third party must be a declared processor
    assert (caps.processor is None) == (harness.emulator is None)


async def test_the_request_carries_only_documented_fields_whichever_the_improvement_choice(harness: Harness) -> None:
    """No vendor offers a no-training or zero-retention request option (see each adapter's docstring), so none is
    sent: the emulation refuses any field its API does not document, nothing names our user (OpenAI's ``user``), and
    the subject's choice changes nothing in the request. The processor record says what applies instead."""
    emulator = harness.needs_vendor()
    for allowed in (False, True):
        job, _ = await run_to_end(harness.provider, harness.request(count=1, improvement_allowed=allowed))
        assert job.state is ProviderJobState.SUCCEEDED
    refused_by_default, allowed_by_choice = emulator.bodies
    assert set(refused_by_default) == set(allowed_by_choice)
    assert "user" not in refused_by_default
    processor = next(p for p in DATA_MAP.processors if p.id == harness.provider.capabilities.processor)
    assert processor.training_use and "no" in processor.training_use


@pytest.mark.parametrize(
    ("emulator", "path", "body"),
    [
        (OpenAIEmulator, "/v1/images/generations", {"prompt": "p", "n": 1, "no_training": True}),
        (ReplicateEmulator, "/v1/models/a/b/predictions", {"input": {"prompt": "p"}, "data_retention": "none"}),
        (RunwayEmulator, "/v1/image_to_video", {"promptImage": "data:image/png;base64,", "duration": 5, "store": 0}),
    ],
)
def test_the_emulations_refuse_an_invented_option(
    emulator: type[VendorEmulator], path: str, body: dict[str, object]
) -> None:
    headers = {"authorization": f"Bearer {TOKEN}", "x-runway-version": "2024-11-06"}
    answer = emulator().handle(httpx.Request("POST", f"https://api.example{path}", json=body, headers=headers))
    assert answer.status_code in (400, 422)


async def test_success_yields_real_media_as_a_stream(harness: Harness) -> None:
    request = harness.request()
    job, _ = await run_to_end(harness.provider, request)
    assert job.state is ProviderJobState.SUCCEEDED
    assert len(job.outputs) == request.count
    for output in job.outputs:
        chunks = [chunk async for chunk in harness.provider.fetch(output)]
        assert chunks and all(chunks)
        assert_media(harness.kind, output.content_type, b"".join(chunks))


async def test_unfinished_jobs_are_polled_to_the_end(harness: Harness) -> None:
    if harness.emulator is not None:
        harness.emulator.polls = 3
    job, seen = await run_to_end(harness.provider, harness.request(count=1))
    assert job.state is ProviderJobState.SUCCEEDED
    asynchronous = harness.provider.name in ("replicate", "runway")
    assert (seen.count(ProviderJobState.RUNNING) + seen[1:].count(ProviderJobState.PENDING) >= 3) == asynchronous
    assert seen[-1] is ProviderJobState.SUCCEEDED


async def test_a_job_the_provider_does_not_know_raises_job_not_found(harness: Harness) -> None:
    with pytest.raises(ProviderJobNotFound):
        await harness.provider.status("no-such-job")


async def test_bad_credentials_raise_auth_failed(harness: Harness) -> None:
    harness.needs_vendor().fault = "401"
    with pytest.raises(ProviderAuthFailed):
        await harness.provider.submit(harness.request())


async def test_429_is_retryable_and_carries_retry_after(harness: Harness) -> None:
    harness.needs_vendor().fault = "429"
    with pytest.raises(ProviderUnavailable) as raised:
        await harness.provider.submit(harness.request())
    assert raised.value.retryable and raised.value.retry_after == float(RETRY_AFTER)


async def test_5xx_is_retryable(harness: Harness) -> None:
    harness.needs_vendor().fault = "500"
    with pytest.raises(ProviderUnavailable) as raised:
        await harness.provider.submit(harness.request())
    assert raised.value.retryable


async def test_a_timeout_is_retryable(harness: Harness) -> None:
    harness.needs_vendor().fault = "timeout"
    with pytest.raises(ProviderUnavailable):
        await harness.provider.submit(harness.request())


async def test_a_5xx_while_polling_is_retryable_and_the_job_resumes(harness: Harness) -> None:
    emulator = harness.needs_vendor()
    emulator.polls = 1
    job = await harness.provider.submit(harness.request(count=1))
    if job.state is ProviderJobState.SUCCEEDED:
        pytest.skip("a synchronous API has nothing to poll")
    emulator.fault = "500"
    with pytest.raises(ProviderUnavailable):
        await harness.provider.status(job.provider_job_id)
    for _ in range(5):
        job = await harness.provider.status(job.provider_job_id)
    assert job.state is ProviderJobState.SUCCEEDED


async def test_a_content_policy_refusal_raises_refused(harness: Harness) -> None:
    harness.needs_vendor().fault = "refusal"
    with pytest.raises(ProviderRefused) as raised:
        await run_to_end(harness.provider, harness.request())
    assert "refused" in str(raised.value)
    assert not raised.value.retryable


async def test_a_malformed_answer_raises_bad_response(harness: Harness) -> None:
    harness.needs_vendor().fault = "malformed"
    with pytest.raises(ProviderBadResponse) as raised:
        await harness.provider.submit(harness.request())
    assert not raised.value.retryable
    assert "html" not in str(raised.value).lower()  # vendor text never reaches our messages


async def test_deletion_is_supported_or_says_so(harness: Harness) -> None:
    job, _ = await run_to_end(harness.provider, harness.request(count=1))
    outcome = await harness.provider.delete(job.provider_job_id)
    if harness.provider.capabilities.supports_deletion:
        assert outcome is DeletionOutcome.DELETED
        with pytest.raises(ProviderJobNotFound):
            await harness.provider.status(job.provider_job_id)
        assert await harness.provider.delete(job.provider_job_id) is DeletionOutcome.NOT_FOUND
    else:
        assert outcome is DeletionOutcome.NOT_SUPPORTED


async def test_cancel_of_a_running_job_ends_it(harness: Harness) -> None:
    if harness.emulator is not None:
        harness.emulator.polls = 5
    job = await harness.provider.submit(harness.request(count=1))
    await harness.provider.cancel(job.provider_job_id)
    if job.state is ProviderJobState.SUCCEEDED:
        return  # synchronous: nothing was running; cancel is a harmless no-op
    try:
        after = await harness.provider.status(job.provider_job_id)
    except ProviderJobNotFound:
        return  # the vendor removed the task with the cancel (Runway's DELETE does both)
    assert after.state is ProviderJobState.CANCELED


async def test_the_offline_renderer_is_deterministic() -> None:
    provider = OfflineRendererProvider(PillowMediaRenderer())
    request = Harness(provider, None).request()
    first, second = await provider.submit(request), await provider.submit(request)
    assert first.provider_job_id == second.provider_job_id
    assert [await drain(provider.fetch(o)) for o in first.outputs] == [
        await drain(provider.fetch(o)) for o in second.outputs
    ]
