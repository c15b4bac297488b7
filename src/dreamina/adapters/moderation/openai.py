"""OpenAI's moderation API as the content moderator.

Follows the public API reference at https://platform.openai.com/docs/api-reference/moderations/create and the
moderation guide (https://platform.openai.com/docs/guides/moderation): ``POST /v1/moderations`` with JSON
``{"model": "omni-moderation-latest", "input": [...]}``, where each input is ``{"type": "text", "text": ...}`` or
``{"type": "image_url", "image_url": {"url": ...}}`` (a URL or a base64 ``data:`` URL; we only ever send the latter,
so the vendor fetches nothing from us). The answer is ``{"id", "model", "results": [{"flagged", "categories":
{name: bool}, "category_scores": {name: float}, "category_applied_input_types": {...}}]}``; categories include
``harassment``, ``hate``, ``illicit``, ``self-harm``, ``sexual``, ``sexual/minors``, ``violence`` and their
sub-categories. Errors are ``{"error": {...}}``; 429 carries ``Retry-After``.

Fail closed: a timeout, an unreachable host, 401/403, 429, 5xx or an answer of the wrong shape is
:class:`ModerationUnavailable`, never a pass. No ``user`` field is sent (it would name our end user to OpenAI); the
API has no per-request no-training or zero-retention option, so none is sent.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from dreamina.adapters.providers.http_common import VendorClient, json_body
from dreamina.ports.generation import ProviderError, ProviderUnavailable
from dreamina.ports.moderation import PASSED, ModerationUnavailable, ModerationVerdict

FLAGGED = "flagged"  # the category when the answer is flagged without naming one


class OpenAIModerator:
    """:class:`~dreamina.ports.moderation.ContentModerator` over ``POST /v1/moderations``."""

    name = "openai"
    processor: str | None = "openai_moderation"

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.openai.com/v1",
        model: str = "omni-moderation-latest",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_seconds: float = 20.0,
    ) -> None:
        self.model = model
        timeout = httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds))
        self._http = VendorClient(
            "OpenAI moderation", base_url, {"Authorization": f"Bearer {api_key}"}, transport, timeout
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def check_text(self, text: str) -> ModerationVerdict:
        return await self._moderate({"type": "text", "text": text})

    async def check_image(self, data: bytes, content_type: str) -> ModerationVerdict:
        url = f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
        return await self._moderate({"type": "image_url", "image_url": {"url": url}})

    async def _moderate(self, item: dict[str, Any]) -> ModerationVerdict:
        try:
            response = await self._http.request("POST", "moderations", json={"model": self.model, "input": [item]})
            body = json_body(self._http.vendor, response)
        except ProviderUnavailable as error:
            raise ModerationUnavailable(str(error), error.retry_after) from None
        except ProviderError as error:
            raise ModerationUnavailable(str(error)) from None
        return _verdict(body)


def _verdict(body: dict[str, Any]) -> ModerationVerdict:
    results = body.get("results")
    if not isinstance(results, list) or not results:
        raise ModerationUnavailable("OpenAI moderation answered without results")
    flagged_any = False
    named: list[tuple[float, str]] = []
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("flagged"), bool):
            raise ModerationUnavailable("OpenAI moderation answered with a malformed result")
        categories = result.get("categories")
        scores = result.get("category_scores")
        if not isinstance(categories, dict):
            raise ModerationUnavailable("OpenAI moderation answered without categories")
        scores = scores if isinstance(scores, dict) else {}
        flagged_any = flagged_any or result["flagged"]
        for name, hit in categories.items():
            if hit is True and isinstance(name, str):
                score = scores.get(name)
                named.append((float(score) if isinstance(score, int | float) else 0.0, name))
    if not flagged_any and not named:
        return PASSED
    return ModerationVerdict(max(named)[1] if named else FLAGGED)
