"""Replicate predictions: an asynchronous prediction API with polling.

Follows the public HTTP API reference at https://replicate.com/docs/reference/http (and
https://sdks.replicate.com/resources/predictions): ``POST /v1/models/{owner}/{name}/predictions`` with
``{"input": {...}}`` creates a prediction of an official model; ``GET /v1/predictions/{id}`` reads it;
``POST /v1/predictions/{id}/cancel`` cancels it. A prediction is
``{"id", "status": starting|processing|succeeded|failed|canceled, "output", "error", "urls": {...}}``; output
files are HTTPS URLs fetched with the same ``Authorization: Bearer`` header. Files are sent as data URLs. The
API has no delete call: Replicate removes API prediction inputs and outputs after one hour (``data_removed``).
Safety-checker failures surface as ``failed`` with an NSFW error.

No-training / zero-retention: the predictions API has no request option for either (the documented body fields
are ``input``, ``webhook`` and ``webhook_events_filter``). Retention is Replicate's default for API predictions:
inputs, outputs and logs removed after one hour (https://replicate.com/docs/topics/predictions/data-retention).
So nothing is added to the request whatever the subject's improvement choice.
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
    ProviderJobState,
    ProviderOutput,
    ProviderRefused,
    ProviderRequest,
)

_STATES = {
    "starting": ProviderJobState.PENDING,
    "processing": ProviderJobState.RUNNING,
    "succeeded": ProviderJobState.SUCCEEDED,
    "failed": ProviderJobState.FAILED,
    "canceled": ProviderJobState.CANCELED,
}
_SAFETY_WORDS = ("nsfw", "safety", "content policy", "flagged")


class ReplicateProvider:
    """:class:`~dreamina.ports.generation.ModelProvider` over Replicate predictions, polled until done."""

    name = "replicate"
    capabilities = ProviderCapabilities(
        kinds=frozenset({GenerationKind.IMAGE}),
        max_references=1,
        retention="prediction inputs and outputs deleted after one hour for API predictions",
        supports_deletion=False,
        processor="replicate",
    )

    def __init__(
        self,
        api_token: str,
        base_url: str = "https://api.replicate.com/v1",
        model: str = "black-forest-labs/flux-schnell",
        transport: httpx.AsyncBaseTransport | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.model = model
        self._auth = {"Authorization": f"Bearer {api_token}"}
        self._http = VendorClient("Replicate", base_url, self._auth, transport)
        self._poll_seconds = poll_seconds

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(self, request: ProviderRequest) -> ProviderJob:
        model_input: dict[str, Any] = {
            "prompt": request.prompt,
            "num_outputs": request.count,
            "aspect_ratio": request.aspect_ratio,
            "output_format": "png",
        }
        if request.seed is not None:
            model_input["seed"] = request.seed
        if request.references:
            model_input["image"] = data_uri(request.references[0])
        response = await self._http.request("POST", f"models/{self.model}/predictions", json={"input": model_input})
        return self._job(json_body("Replicate", response))

    async def status(self, provider_job_id: str) -> ProviderJob:
        response = await self._http.request("GET", f"predictions/{provider_job_id}", not_found_is_missing_job=True)
        return self._job(json_body("Replicate", response))

    def fetch(self, output: ProviderOutput) -> AsyncIterator[bytes]:
        if output.url is None:
            raise ProviderBadResponse("Replicate output without a URL")
        return self._http.download(output.url, headers=self._auth)

    async def cancel(self, provider_job_id: str) -> None:
        await self._http.request("POST", f"predictions/{provider_job_id}/cancel", not_found_is_missing_job=True)

    async def delete(self, provider_job_id: str) -> DeletionOutcome:
        return DeletionOutcome.NOT_SUPPORTED

    def _job(self, body: dict[str, Any]) -> ProviderJob:
        ident, status = body.get("id"), body.get("status")
        if not isinstance(ident, str) or not ident or status not in _STATES:
            raise ProviderBadResponse("Replicate answered with a malformed prediction")
        state = _STATES[status]
        if state is ProviderJobState.FAILED:
            error = str(body.get("error") or "").lower()
            if any(word in error for word in _SAFETY_WORDS):
                raise ProviderRefused("Replicate's safety checker refused the content")
            return ProviderJob(ident, state, failure="The model could not complete this generation.")
        outputs: tuple[ProviderOutput, ...] = ()
        if state is ProviderJobState.SUCCEEDED:
            raw = body.get("output")
            urls = [raw] if isinstance(raw, str) else raw
            if (
                not isinstance(urls, list)
                or not urls
                or not all(isinstance(u, str) and u.startswith("http") for u in urls)
            ):
                raise ProviderBadResponse("Replicate reported success without output files")
            outputs = tuple(ProviderOutput(content_type_for_url(u, "image/png"), url=u) for u in urls)
        return ProviderJob(ident, state, outputs, poll_after_seconds=self._poll_seconds)
