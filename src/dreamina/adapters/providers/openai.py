"""OpenAI Images API: a synchronous image API.

Follows the public API reference at https://platform.openai.com/docs/api-reference/images:
``POST /v1/images/generations`` (JSON: ``model``, ``prompt``, ``n``, ``size``) and, with reference images,
``POST /v1/images/edits`` (multipart: ``model``, ``prompt``, ``n``, ``size``, one or more ``image[]`` files).
Both answer ``{"created": <unix>, "data": [{"b64_json": "..."}]}`` (GPT image models always return base64);
errors are ``{"error": {"message", "type", "code"}}``, content-policy refusals are 400s whose ``code`` is
``content_policy_violation`` or ``moderation_blocked``; 429 carries ``Retry-After``. The API keeps no job to
poll, cancel or delete: inputs and outputs are retained by OpenAI up to 30 days for abuse monitoring.

No-training / zero-retention: the Images API has no request parameter for either. Per OpenAI's "Your data" guide
(https://platform.openai.com/docs/guides/your-data) data sent to the API is not used to train OpenAI's models
unless the organisation opts in to sharing it (we do not), and Zero Data Retention is an organisation- or
project-level control OpenAI approves, not a request option (``store`` exists only on Responses and Chat
Completions). So nothing is added to the request whatever the subject's improvement choice; the optional ``user``
field, which would name our end user to OpenAI, is never sent.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Any

import httpx

from dreamina.adapters.providers.http_common import VendorClient, json_body
from dreamina.ports.generation import (
    DeletionOutcome,
    GenerationKind,
    ProviderBadResponse,
    ProviderCapabilities,
    ProviderJob,
    ProviderJobNotFound,
    ProviderJobState,
    ProviderOutput,
    ProviderRequest,
)

_SIZES = {"1:1": "1024x1024", "16:9": "1536x1024", "4:3": "1536x1024", "9:16": "1024x1536", "3:4": "1024x1536"}
_REFUSALS = {"content_policy_violation", "moderation_blocked"}
_CHUNK = 64 * 1024


def _refused(_: httpx.Response, body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("code") in _REFUSALS


class OpenAIImagesProvider:
    """:class:`~dreamina.ports.generation.ModelProvider` over the OpenAI Images API (generations and edits)."""

    name = "openai"
    capabilities = ProviderCapabilities(
        kinds=frozenset({GenerationKind.IMAGE}),
        max_references=4,
        retention="API inputs and outputs up to 30 days for abuse monitoring",
        supports_deletion=False,
        processor="openai",
    )

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.openai.com/v1",
        model: str = "gpt-image-1",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self._http = VendorClient("OpenAI", base_url, {"Authorization": f"Bearer {api_key}"}, transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(self, request: ProviderRequest) -> ProviderJob:
        size = _SIZES.get(request.aspect_ratio, "1024x1024")
        if request.references:
            files = [
                ("image[]", (f"reference-{i}.{r.content_type.split('/')[1]}", r.data, r.content_type))
                for i, r in enumerate(request.references)
            ]
            data = {"model": self.model, "prompt": request.prompt, "n": str(request.count), "size": size}
            response = await self._http.request("POST", "images/edits", data=data, files=files, refusal=_refused)
        else:
            payload = {"model": self.model, "prompt": request.prompt, "n": request.count, "size": size}
            response = await self._http.request("POST", "images/generations", json=payload, refusal=_refused)
        body = json_body("OpenAI", response)
        items = body.get("data")
        if not isinstance(items, list) or not items or not isinstance(body.get("created"), int):
            raise ProviderBadResponse("OpenAI answered without images")
        outputs = []
        for item in items:
            encoded = item.get("b64_json") if isinstance(item, dict) else None
            if not isinstance(encoded, str):
                raise ProviderBadResponse("OpenAI answered without image data")
            try:
                outputs.append(ProviderOutput("image/png", inline=base64.b64decode(encoded, validate=True)))
            except (binascii.Error, ValueError):
                raise ProviderBadResponse("OpenAI answered with undecodable image data") from None
        return ProviderJob(
            f"openai-{request.idempotency_key}", ProviderJobState.SUCCEEDED, tuple(outputs), poll_after_seconds=0
        )

    async def status(self, provider_job_id: str) -> ProviderJob:
        # synchronous API: a finished answer is only ever in hand once; after a crash the job is submitted again
        raise ProviderJobNotFound("OpenAI keeps no job to look up")

    async def fetch(self, output: ProviderOutput) -> AsyncIterator[bytes]:
        data = output.inline or b""
        for start in range(0, len(data), _CHUNK):
            yield data[start : start + _CHUNK]

    async def cancel(self, provider_job_id: str) -> None:
        return None

    async def delete(self, provider_job_id: str) -> DeletionOutcome:
        return DeletionOutcome.NOT_SUPPORTED
