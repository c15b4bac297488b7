"""The offline renderer: the embedded profile's model provider. Nothing leaves the process."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator

from dreamina.ports.generation import (
    DeletionOutcome,
    GenerationKind,
    MediaRenderer,
    ProviderCapabilities,
    ProviderJob,
    ProviderJobNotFound,
    ProviderJobState,
    ProviderOutput,
    ProviderRequest,
)

_CHUNK = 64 * 1024


class OfflineRendererProvider:
    """:class:`~dreamina.ports.generation.ModelProvider` that draws real PNGs and encodes real MP4s locally.

    Deterministic: the job id and the bytes follow from the request, so a retried job renders the same outputs.
    Rendered jobs are kept in a small in-process cache until stored and deleted; a job the cache no longer
    holds answers :class:`ProviderJobNotFound`, and the use case submits it again.
    """

    name = "offline"
    capabilities = ProviderCapabilities(
        kinds=frozenset({GenerationKind.IMAGE, GenerationKind.VIDEO}),
        max_references=4,
        retention="nothing leaves this process; rendered bytes are dropped once stored",
        supports_deletion=True,
        processor=None,
    )

    def __init__(self, renderer: MediaRenderer, cache_size: int = 64, render_seconds: float = 0.0) -> None:
        self._renderer = renderer
        self._render_seconds = render_seconds  # a pretend model latency: jobs stay in flight that long
        self._jobs: OrderedDict[str, ProviderJob] = OrderedDict()
        self._cache_size = cache_size

    async def submit(self, request: ProviderRequest) -> ProviderJob:
        job_id = "offline-" + hashlib.sha256(repr(request).encode()).hexdigest()[:32]
        if self._render_seconds > 0:
            await asyncio.sleep(self._render_seconds)
        if request.kind is GenerationKind.IMAGE:
            outputs = [
                ProviderOutput("image/png", inline=await asyncio.to_thread(self._renderer.image, request, i))
                for i in range(request.count)
            ]
        else:
            outputs = [ProviderOutput("video/mp4", inline=await asyncio.to_thread(self._renderer.video, request))]
        job = ProviderJob(job_id, ProviderJobState.SUCCEEDED, tuple(outputs), poll_after_seconds=0.0)
        self._jobs[job_id] = job
        while len(self._jobs) > self._cache_size:
            self._jobs.popitem(last=False)
        return job

    async def status(self, provider_job_id: str) -> ProviderJob:
        job = self._jobs.get(provider_job_id)
        if job is None:
            raise ProviderJobNotFound("the renderer no longer holds this job")
        return job

    async def fetch(self, output: ProviderOutput) -> AsyncIterator[bytes]:
        data = output.inline or b""
        for start in range(0, len(data), _CHUNK):
            yield data[start : start + _CHUNK]

    async def cancel(self, provider_job_id: str) -> None:
        return None  # renders finish within submit: nothing runs to stop

    async def delete(self, provider_job_id: str) -> DeletionOutcome:
        return DeletionOutcome.DELETED if self._jobs.pop(provider_job_id, None) else DeletionOutcome.NOT_FOUND
