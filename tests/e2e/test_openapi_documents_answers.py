"""The problems the API really answers are the ones its OpenAPI document lists (issue 16 findings 4 and 5): for each
refusal provoked here, the served document declares that status on that operation, with an example of that ``code``
whose ``type``, ``title`` and ``status`` are the ones the server sent. Every backend."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from dreamina.entrypoints.http.problems import PROBLEM_JSON
from tests.http_client import AsyncTestClient

from .helpers import sign_up_body, signed_in
from .test_generation_api import png_bytes, upload


async def assert_documented(client: AsyncTestClient, method: str, template: str, response: httpx.Response) -> str:
    """The problem ``response`` to ``method template`` is documented there, example and all; its code."""
    document = (await client.get("/schema/openapi.json")).json()
    responses = document["paths"][template][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {template} answered an undocumented {status}: {response.text}"
    body = response.json()
    examples = responses[status]["content"][PROBLEM_JSON]["examples"]
    assert body["code"] in examples, f"{method} {template} {status}: {body['code']} is not among {sorted(examples)}"
    example = examples[body["code"]]["value"]
    assert (example["type"], example["title"], example["status"]) == (body["type"], body["title"], body["status"])
    return str(body["code"])


async def test_the_problems_answered_are_the_documented_ones(client: AsyncTestClient) -> None:
    seen: dict[str, str] = {}

    async def check(method: str, template: str, response: httpx.Response, code: str) -> None:
        assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
        seen[f"{method} {template} {response.status_code}"] = await assert_documented(
            client, method, template, response
        )
        assert seen[f"{method} {template} {response.status_code}"] == code

    young = sign_up_body("young@example.com", birth_date="2020-01-01")
    await check("POST", "/v1/accounts", await client.post("/v1/accounts", json=young), "age_requirement_not_met")
    stale = sign_up_body("stale@example.com", accept_policy_version=99)
    await check("POST", "/v1/accounts", await client.post("/v1/accounts", json=stale), "policy_version_not_current")
    await check("GET", "/v1/me", await client.get("/v1/me"), "authentication_failed")

    headers = await signed_in(client, "documented@example.com")
    unknown = f"/v1/generations/{uuid.uuid4()}"
    await check("GET", "/v1/generations/{generation_id}", await client.get(unknown, headers=headers), "not_found")
    text = await client.post("/v1/uploads", files={"file": ("a.png", b"not an image", "image/png")}, headers=headers)
    await check("POST", "/v1/uploads", text, "unsupported_image")
    bad_key = {**headers, "Idempotency-Key": "k" * 300}
    keyed = await client.post("/v1/uploads", files={"file": ("a.png", png_bytes(), "image/png")}, headers=bad_key)
    await check("POST", "/v1/uploads", keyed, "validation_failed")  # the header's declared pattern refuses it
    long_prompt = {"kind": "image", "prompt": "x" * 5000}
    await check(
        "POST",
        "/v1/generations",
        await client.post("/v1/generations", json=long_prompt, headers=headers),
        "invalid_input",
    )

    uploaded = await upload(client, headers, png_bytes(), "a.png")
    assert uploaded.status_code == 201, uploaded.text
    upload_id = uploaded.json()["id"]
    body: dict[str, Any] = {"kind": "image", "prompt": "a quiet harbour", "reference_upload_ids": [upload_id]}
    assert (await client.post("/v1/generations", json=body, headers=headers)).status_code == 202
    in_use = await client.delete(f"/v1/uploads/{upload_id}", headers=headers)
    await check("DELETE", "/v1/uploads/{upload_id}", in_use, "upload_in_use")

    request = await client.post("/v1/privacy/requests", json={"type": "access"}, headers=headers)
    assert request.status_code == 202, request.text
    cancel = f"/v1/privacy/requests/{request.json()['id']}/cancel"  # an access request cannot be cancelled
    refused = await client.post(cancel, json={"confirm": True}, headers=headers)
    await check("POST", "/v1/privacy/requests/{request_id}/cancel", refused, "request_not_open")
    staff_only = await client.get("/v1/admin/privacy/requests", headers=headers)
    await check("GET", "/v1/admin/privacy/requests", staff_only, "forbidden")
    print(f"{len(seen)} problem answers, each documented with its example: {sorted(set(seen.values()))}")
