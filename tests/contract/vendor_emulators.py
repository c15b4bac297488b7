"""Emulations of the vendors' documented HTTP APIs, served through ``httpx.MockTransport`` (no network).

Each checks what the real API checks that matters to us (credentials, required fields, version header, and no
field the API does not document: none of these APIs has a no-training or zero-retention request option, so an
adapter that invented one would be refused here, as the vendors refuse unknown arguments) and answers in the
documented shapes. ``bodies`` keeps each decoded request body (JSON, or the multipart form's field names).
``fault`` injects one failure into the next API call: ``401``, ``429``
(with ``Retry-After``), ``500``, ``timeout``, ``refusal`` (the vendor's content-policy answer) or ``malformed``.
``polls`` is how many status reads a job stays unfinished.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from PIL import Image

TOKEN = "test-secret-token"
RETRY_AFTER = "7"


def png(colour: tuple[int, int, int] = (20, 40, 200), size: tuple[int, int] = (16, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def mp4() -> bytes:
    from dreamina.adapters.images import PillowMediaRenderer
    from dreamina.ports.generation import GenerationKind, ProviderRequest

    request = ProviderRequest("emulated", GenerationKind.VIDEO, "emulated clip", (), "16:9", 1, 1, 1)
    return PillowMediaRenderer().video(request)


# The request fields each vendor's API reference documents for the calls we make.
OPENAI_FIELDS = frozenset(
    {
        "prompt", "model", "n", "size", "quality", "response_format", "output_format", "output_compression",
        "background", "moderation", "style", "user", "stream", "partial_images", "image[]", "image", "mask",
        "input_fidelity",
    }
)  # fmt: skip
REPLICATE_FIELDS = frozenset({"input", "webhook", "webhook_events_filter", "stream"})
RUNWAY_FIELDS = frozenset({"model", "promptImage", "promptText", "ratio", "duration", "seed", "contentModeration"})


def undocumented(fields: object, documented: frozenset[str]) -> list[str]:
    return sorted(set(fields) - documented) if isinstance(fields, dict | list | set) else ["<not an object>"]


class VendorEmulator:
    vendor = "vendor"

    def __init__(self) -> None:
        self.fault: str | None = None
        self.polls = 0
        self.requests: list[httpx.Request] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.bodies: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        # called as each request arrives, before it is answered: a test looks at our database at that moment
        self.on_arrival: Callable[[httpx.Request], Awaitable[None]] | None = None
        self.transport = httpx.MockTransport(self._arrive)

    async def _arrive(self, request: httpx.Request) -> httpx.Response:
        if self.on_arrival is not None:
            await self.on_arrival(request)
        return self.handle(request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "cdn.example":
            return self.serve_file(request)
        fault, self.fault = self.fault, None
        if fault == "timeout":
            raise httpx.ReadTimeout("emulated timeout", request=request)
        if fault == "500":
            return httpx.Response(500, json={"detail": "internal error"})
        if fault == "429":
            return httpx.Response(429, headers={"Retry-After": RETRY_AFTER}, json={"detail": "slow down"})
        if fault == "401" or request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"detail": "invalid token"})
        if fault == "malformed":
            return httpx.Response(200, content=b"<html>gateway</html>", headers={"content-type": "text/html"})
        return self.route(request, refuse=fault == "refusal")

    def route(self, request: httpx.Request, refuse: bool) -> httpx.Response:
        raise NotImplementedError

    def serve_file(self, request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        data = mp4() if name.endswith(".mp4") else png()
        kind = "video/mp4" if name.endswith(".mp4") else "image/png"
        return httpx.Response(200, content=data, headers={"content-type": kind})

    def new_id(self) -> str:
        return f"{self.vendor}-job-{next(self._ids)}"


class OpenAIEmulator(VendorEmulator):
    """``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits`` (multipart ``image[]``)."""

    vendor = "openai"

    def route(self, request: httpx.Request, refuse: bool) -> httpx.Response:
        path = request.url.path
        if request.method != "POST" or path not in ("/v1/images/generations", "/v1/images/edits"):
            return httpx.Response(404, json={"error": {"message": "not found", "type": "invalid_request_error"}})
        if path.endswith("generations"):
            body = json.loads(request.content)
            n, prompt = int(body.get("n", 1)), body.get("prompt")
        else:
            content = request.read()
            if b'name="image[]"' not in content:
                return httpx.Response(400, json={"error": {"message": "image is required", "code": None}})
            n = int(content.split(b'name="n"\r\n\r\n', 1)[1].split(b"\r\n", 1)[0])
            names = re.findall(rb'; name="([^"]+)"', content)
            body = {name.decode(): True for name in names}
            prompt = "multipart" if b'name="prompt"' in content else None
        self.bodies.append(body)
        unknown = undocumented(body, OPENAI_FIELDS)
        if unknown:
            message = f"Unrecognized request argument supplied: {unknown[0]}"
            return httpx.Response(400, json={"error": {"message": message, "type": "invalid_request_error"}})
        if not prompt:
            return httpx.Response(400, json={"error": {"message": "prompt is required", "code": None}})
        if refuse:
            error = {"message": "Your request was rejected by the safety system.", "code": "moderation_blocked"}
            return httpx.Response(400, json={"error": {**error, "type": "image_generation_user_error"}})
        data = [{"b64_json": base64.b64encode(png((i * 40 % 255, 10, 10))).decode()} for i in range(n)]
        return httpx.Response(200, json={"created": 1764072000, "data": data})


class ReplicateEmulator(VendorEmulator):
    """``POST /v1/models/{owner}/{name}/predictions``, ``GET /v1/predictions/{id}``, ``POST .../cancel``."""

    vendor = "replicate"

    def route(self, request: httpx.Request, refuse: bool) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if request.method == "POST" and len(parts) == 5 and parts[1] == "models" and parts[4] == "predictions":
            body = json.loads(request.content)
            self.bodies.append(body)
            if undocumented(body, REPLICATE_FIELDS):
                return httpx.Response(
                    422, json={"detail": f"unexpected fields: {undocumented(body, REPLICATE_FIELDS)}"}
                )
            if not isinstance(body.get("input"), dict) or not body["input"].get("prompt"):
                return httpx.Response(422, json={"detail": "input.prompt is required"})
            ident = self.new_id()
            self.jobs[ident] = {
                "n": int(body["input"].get("num_outputs", 1)),
                "polls": self.polls,
                "refuse": refuse,
                "canceled": False,
            }
            return httpx.Response(201, json=self.prediction(ident, "starting"))
        if len(parts) >= 3 and parts[1] == "predictions":
            ident = parts[2]
            job = self.jobs.get(ident)
            if job is None:
                return httpx.Response(404, json={"detail": "Not found."})
            if request.method == "POST" and parts[-1] == "cancel":
                job["canceled"] = True
                return httpx.Response(200, json=self.prediction(ident, "canceled"))
            if request.method == "GET":
                if job["canceled"]:
                    return httpx.Response(200, json=self.prediction(ident, "canceled"))
                if job["polls"] > 0:
                    job["polls"] -= 1
                    return httpx.Response(200, json=self.prediction(ident, "processing"))
                if job["refuse"]:
                    failed = self.prediction(ident, "failed")
                    failed["error"] = "NSFW content detected. Try running it again, or try a different prompt."
                    return httpx.Response(200, json=failed)
                done = self.prediction(ident, "succeeded")
                done["output"] = [f"https://cdn.example/replicate/{ident}/out-{i}.png" for i in range(job["n"])]
                return httpx.Response(200, json=done)
        return httpx.Response(404, json={"detail": "Not found."})

    @staticmethod
    def prediction(ident: str, status: str) -> dict[str, Any]:
        base = f"https://api.replicate.com/v1/predictions/{ident}"
        return {
            "id": ident,
            "model": "black-forest-labs/flux-schnell",
            "status": status,
            "output": None,
            "error": None,
            "data_removed": False,
            "urls": {"get": base, "cancel": base + "/cancel"},
        }


class RunwayEmulator(VendorEmulator):
    """``POST /v1/image_to_video``, ``GET /v1/tasks/{id}``, ``DELETE /v1/tasks/{id}``."""

    vendor = "runway"

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "cdn.example" and request.headers.get("x-runway-version") != "2024-11-06":
            self.requests.append(request)
            return httpx.Response(400, json={"error": "X-Runway-Version header is required"})
        return super().handle(request)

    def route(self, request: httpx.Request, refuse: bool) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/image_to_video":
            body = json.loads(request.content)
            self.bodies.append(body)
            if undocumented(body, RUNWAY_FIELDS):
                return httpx.Response(400, json={"error": f"unrecognized keys: {undocumented(body, RUNWAY_FIELDS)}"})
            image = body.get("promptImage")
            if not isinstance(image, str) or not image.startswith("data:image/") or body.get("duration") not in (5, 10):
                return httpx.Response(400, json={"error": "promptImage and duration (5 or 10) are required"})
            ident = self.new_id()
            self.jobs[ident] = {"polls": self.polls, "refuse": refuse}
            return httpx.Response(200, json={"id": ident})
        if path.startswith("/v1/tasks/"):
            ident = path.rsplit("/", 1)[-1]
            job = self.jobs.get(ident)
            if job is None:
                return httpx.Response(404, json={"error": "Task not found"})
            if request.method == "DELETE":
                del self.jobs[ident]
                return httpx.Response(204)
            if job["polls"] > 0:
                job["polls"] -= 1
                status = "THROTTLED" if job["polls"] % 2 else "RUNNING"
                return httpx.Response(200, json={"id": ident, "status": status, "createdAt": "2026-11-25T12:00:00Z"})
            if job["refuse"]:
                return httpx.Response(
                    200,
                    json={
                        "id": ident,
                        "status": "FAILED",
                        "failure": "Your input was flagged by our content moderation.",
                        "failureCode": "SAFETY.INPUT.IMAGE",
                    },
                )
            return httpx.Response(
                200,
                json={
                    "id": ident,
                    "status": "SUCCEEDED",
                    "createdAt": "2026-11-25T12:00:00Z",
                    "output": [f"https://cdn.example/runway/{ident}.mp4?X-Amz-Expires=86400"],
                },
            )
        return httpx.Response(404, json={"error": "Not found"})
