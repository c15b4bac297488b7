"""Runway image-to-video: a video task API with polling and task deletion.

Follows the public API reference at https://docs.dev.runwayml.com/api/: ``POST /v1/image_to_video`` with
``{"model", "promptImage", "promptText", "ratio", "duration", "seed"}`` answers ``{"id"}``;
``GET /v1/tasks/{id}`` answers ``{"id", "status": PENDING|THROTTLED|RUNNING|SUCCEEDED|FAILED|CANCELLED,
"output": [urls], "failure", "failureCode"}``; ``DELETE /v1/tasks/{id}`` cancels a running task or deletes a
finished one (204). Every request sends ``Authorization: Bearer <key>`` and ``X-Runway-Version: 2024-11-06``.
Images go as data URIs; moderation failures carry a ``failureCode`` starting with ``SAFETY``.

No-training / zero-retention: the API reference offers no training or retention parameter on
``POST /v1/image_to_video`` (its body is ``model``, ``promptImage``, ``promptText``, ``ratio``, ``duration``,
``seed`` and ``contentModeration``), so none is sent. What it does offer is ``DELETE /v1/tasks/{id}`` for a finished
task: unless the subject allowed improvement use, the job runner deletes the task (input and output) at Runway as
soon as its outputs are stored here (``GenerationRunner``; ``capabilities.supports_deletion``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from dreamina.adapters.providers.http_common import VendorClient, content_type_for_url, data_uri, json_body
from dreamina.ports.generation import (
    DeletionOutcome,
    GenerationKind,
    ProviderBadResponse,
    ProviderCapabilities,
    ProviderJob,
    ProviderJobNotFound,
    ProviderJobState,
    ProviderOutput,
    ProviderRefused,
    ProviderRequest,
)

API_VERSION = "2024-11-06"
_RATIOS = {"16:9": "1280:720", "9:16": "720:1280", "1:1": "960:960", "4:3": "1104:832", "3:4": "832:1104"}
_STATES = {
    "PENDING": ProviderJobState.PENDING,
    "THROTTLED": ProviderJobState.PENDING,
    "RUNNING": ProviderJobState.RUNNING,
    "SUCCEEDED": ProviderJobState.SUCCEEDED,
    "FAILED": ProviderJobState.FAILED,
    "CANCELLED": ProviderJobState.CANCELED,
}


def _refused(_: httpx.Response, body: Any) -> bool:
    text = str(body).lower() if body is not None else ""
    return "safety" in text or "moderation" in text


class RunwayProvider:
    """:class:`~dreamina.ports.generation.ModelProvider` over Runway's image-to-video tasks."""

    name = "runway"
    capabilities = ProviderCapabilities(
        kinds=frozenset({GenerationKind.VIDEO}),
        max_references=1,
        min_references=1,
        retention="task outputs expire; tasks deleted on our request",
        supports_deletion=True,
        processor="runway",
    )

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.dev.runwayml.com/v1",
        model: str = "gen4_turbo",
        transport: httpx.AsyncBaseTransport | None = None,
        poll_seconds: float = 5.0,
    ) -> None:
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}", "X-Runway-Version": API_VERSION}
        self._http = VendorClient("Runway", base_url, headers, transport)
        self._poll_seconds = poll_seconds

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(self, request: ProviderRequest) -> ProviderJob:
        if not request.references:
            raise ProviderBadResponse("Runway image-to-video needs a reference image")
        payload: dict[str, Any] = {
            "model": self.model,
            "promptImage": data_uri(request.references[0]),
            "promptText": request.prompt[:1000],
            "ratio": _RATIOS.get(request.aspect_ratio, "1280:720"),
            "duration": 5 if request.duration_seconds <= 5 else 10,
        }
        if request.seed is not None:
            payload["seed"] = request.seed
        response = await self._http.request("POST", "image_to_video", json=payload, refusal=_refused)
        ident = json_body("Runway", response).get("id")
        if not isinstance(ident, str) or not ident:
            raise ProviderBadResponse("Runway answered without a task id")
        return ProviderJob(ident, ProviderJobState.PENDING, poll_after_seconds=self._poll_seconds)

    async def status(self, provider_job_id: str) -> ProviderJob:
        response = await self._http.request("GET", f"tasks/{provider_job_id}", not_found_is_missing_job=True)
        body = json_body("Runway", response)
        ident, status = body.get("id"), body.get("status")
        if not isinstance(ident, str) or status not in _STATES:
            raise ProviderBadResponse("Runway answered with a malformed task")
        state = _STATES[status]
        if state is ProviderJobState.FAILED:
            if str(body.get("failureCode") or "").upper().startswith("SAFETY"):
                raise ProviderRefused("Runway's moderation refused the content")
            return ProviderJob(ident, state, failure="The model could not complete this generation.")
        outputs: tuple[ProviderOutput, ...] = ()
        if state is ProviderJobState.SUCCEEDED:
            urls = body.get("output")
            if (
                not isinstance(urls, list)
                or not urls
                or not all(isinstance(u, str) and u.startswith("http") for u in urls)
            ):
                raise ProviderBadResponse("Runway reported success without outputs")
            outputs = tuple(ProviderOutput(content_type_for_url(u, "video/mp4"), url=u) for u in urls)
        return ProviderJob(ident, state, outputs, poll_after_seconds=self._poll_seconds)

    def fetch(self, output: ProviderOutput) -> AsyncIterator[bytes]:
        if output.url is None:
            raise ProviderBadResponse("Runway output without a URL")
        return self._http.download(output.url)  # presigned, short-lived URLs: no credentials needed

    async def cancel(self, provider_job_id: str) -> None:
        try:
            await self._http.request("DELETE", f"tasks/{provider_job_id}", not_found_is_missing_job=True)
        except ProviderJobNotFound:
            return None

    async def delete(self, provider_job_id: str) -> DeletionOutcome:
        try:
            await self._http.request("DELETE", f"tasks/{provider_job_id}", not_found_is_missing_job=True)
        except ProviderJobNotFound:
            return DeletionOutcome.NOT_FOUND
        return DeletionOutcome.DELETED
