"""An emulation of OpenAI's moderation API (``POST /v1/moderations``), as documented at
https://platform.openai.com/docs/api-reference/moderations/create, served through ``httpx.MockTransport`` (no
network; the adapter under test is pointed at http://127.0.0.1/v1).

It checks what the real API checks that matters to us (the bearer token, the model, ``input`` as an array of typed
parts, no field the API does not document, images only as ``data:`` URLs since we never send a fetchable URL) and
answers in the documented shape. It flags text containing one of ``bad_terms`` (category ``violence``) and an image
whose pixels equal one of ``bad_images`` (category ``sexual``). ``fault`` comes from :class:`VendorEmulator`.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from typing import Any

import httpx
from PIL import Image

from tests.contract.vendor_emulators import VendorEmulator

MODERATION_FIELDS = frozenset({"input", "model"})
CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent", "self-harm",
    "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
)  # fmt: skip


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes() + repr(image.size).encode()


class ModerationEmulator(VendorEmulator):
    vendor = "openai_moderation"

    def __init__(self) -> None:
        super().__init__()
        self.bad_terms: set[str] = set()
        self.bad_images: set[bytes] = set()  # pixels(...) of images to flag

    def route(self, request: httpx.Request, refuse: bool) -> httpx.Response:
        if request.method != "POST" or request.url.path != "/v1/moderations":
            return httpx.Response(404, json={"error": {"message": "not found", "type": "invalid_request_error"}})
        body = json.loads(request.content)
        self.bodies.append(body)
        unknown = sorted(set(body) - MODERATION_FIELDS) if isinstance(body, dict) else ["<not an object>"]
        if unknown:
            return _invalid(f"Unrecognized request argument supplied: {unknown[0]}")
        if body.get("model") != "omni-moderation-latest":
            return _invalid("model must be omni-moderation-latest")
        items = body.get("input")
        if not isinstance(items, list) or not items:
            return _invalid("input must be a non-empty array")
        results = []
        for item in items:
            verdict = self._classify(item)
            if isinstance(verdict, httpx.Response):
                return verdict
            results.append(_result(verdict))
        return httpx.Response(200, json={"id": "modr-1", "model": "omni-moderation-latest", "results": results})

    def _classify(self, item: Any) -> str | httpx.Response | None:
        if not isinstance(item, dict):
            return _invalid("each input must be an object")
        if item.get("type") == "text" and set(item) == {"type", "text"} and isinstance(item["text"], str):
            text = item["text"].casefold()
            return "violence" if any(term in text for term in self.bad_terms) else None
        if item.get("type") == "image_url" and set(item) == {"type", "image_url"}:
            url = item["image_url"].get("url") if isinstance(item["image_url"], dict) else None
            if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url:
                return _invalid("image_url.url must be a base64 data URL here")
            try:
                data = base64.b64decode(url.split(";base64,", 1)[1], validate=True)
                return "sexual" if pixels(data) in self.bad_images else None
            except (binascii.Error, ValueError, OSError):
                return _invalid("the image could not be decoded")
        return _invalid("unsupported input part")


def _invalid(message: str) -> httpx.Response:
    return httpx.Response(400, json={"error": {"message": message, "type": "invalid_request_error"}})


def _result(category: str | None) -> dict[str, Any]:
    return {
        "flagged": category is not None,
        "categories": {name: name == category for name in CATEGORIES},
        "category_scores": {name: 0.97 if name == category else 0.001 for name in CATEGORIES},
        "category_applied_input_types": {name: ["text"] for name in CATEGORIES},
    }
