"""Checking a finished job's outputs with the content moderator before any of them is stored or served.

Each output is fetched once, checked, and kept in memory for the store step, which then reads it from here instead
of fetching it again. An image is checked as it is; a video by its first, middle and last frames (no moderator we
use takes video), and one that cannot be decoded into frames is not served (the job fails as a bad provider answer).
A refused output fails the job with its charge released; nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

from dreamina.domain.generation.moderation import ContentScreening
from dreamina.ports.generation import Generation, ModelProvider, ProviderBadResponse, ProviderJob, ProviderOutput
from dreamina.ports.moderation import CheckedContent, FramesUnavailable


class _Checked:
    """The provider as the store step sees it: checked outputs come from memory, everything else from the provider."""

    def __init__(self, provider: ModelProvider, held: dict[int, bytes]) -> None:
        self._provider = provider
        self._held = held

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)

    async def fetch(self, output: ProviderOutput) -> AsyncIterator[bytes]:
        data = self._held.get(id(output))
        if data is None:
            async for chunk in self._provider.fetch(output):
                yield chunk
            return
        yield data


async def screen_outputs(
    screening: ContentScreening, provider: ModelProvider, generation: Generation, job: ProviderJob
) -> ModelProvider:
    """``ContentRefused`` if an output image is refused, ``ModerationBusy`` if it could not be checked; else the
    provider to store the outputs from."""
    held: dict[int, bytes] = {}
    for output in job.outputs:
        video = output.content_type.startswith("video/")
        if not (output.content_type.startswith("image/") or (video and screening.frames is not None)):
            continue
        data = b"".join([chunk async for chunk in provider.fetch(output)])
        if video:
            assert screening.frames is not None
            try:
                frames = await screening.frames.sample(data, output.content_type)
            except FramesUnavailable:
                raise ProviderBadResponse("the provider returned a video that could not be decoded") from None
            for frame in frames:
                await screening.check_image(generation.subject_id, frame, "image/png", CheckedContent.OUTPUT)
        else:
            await screening.check_image(generation.subject_id, data, output.content_type, CheckedContent.OUTPUT)
        held[id(output)] = data
    return cast(ModelProvider, _Checked(provider, held))
