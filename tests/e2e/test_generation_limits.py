"""One source for the generation limits: the OpenAPI document states the domain's rules, and a submission over a
limit gets the domain's own problem (422 ``invalid_input`` naming the field), however far over it is."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dreamina.domain.generation.rules import (
    MAX_IMAGE_COUNT,
    MAX_PROMPT_CHARS,
    MAX_REFERENCES,
    MAX_VIDEO_SECONDS,
    PAGE_SIZE_MAX,
    GenerationRules,
)
from tests.e2e.helpers import signed_in
from tests.http_client import AsyncTestClient

RULES = GenerationRules()


def test_the_rules_default_to_the_limits_users_were_always_held_to() -> None:
    limits = (MAX_PROMPT_CHARS, MAX_REFERENCES, MAX_IMAGE_COUNT, MAX_VIDEO_SECONDS, PAGE_SIZE_MAX)
    assert limits == (4000, 4, 4, 10, 100)
    assert (
        RULES.max_prompt_chars,
        RULES.max_references,
        RULES.max_image_count,
        RULES.max_video_seconds,
        RULES.page_size_max,
    ) == limits


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        *_, name = schema["$ref"].split("/")
        schema = document["components"]["schemas"][name]
    return schema


async def submission_schema(client: AsyncTestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    document = (await client.get("/schema/openapi.json")).json()
    body = document["paths"]["/v1/generations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    properties = resolve(document, body)["properties"]
    return properties, resolve(document, properties["params"])["properties"]


async def test_the_openapi_document_states_the_domains_limits(client: AsyncTestClient) -> None:
    body, params = await submission_schema(client)
    assert body["prompt"]["maxLength"] == RULES.max_prompt_chars
    assert body["reference_upload_ids"]["maxItems"] == RULES.max_references
    assert (params["count"]["minimum"], params["count"]["maximum"]) == (1, RULES.max_image_count)
    assert (params["duration_seconds"]["minimum"], params["duration_seconds"]["maximum"]) == (
        1,
        RULES.max_video_seconds,
    )
    document = (await client.get("/schema/openapi.json")).json()
    [limit] = [p for p in document["paths"]["/v1/generations"]["get"]["parameters"] if p["name"] == "limit"]
    assert limit["schema"]["maximum"] == RULES.page_size_max


def over(field: str, by: int) -> tuple[dict[str, Any], str]:
    """A submission ``by`` over the limit on ``field``, and the field the problem names."""
    if field == "prompt":
        return {"kind": "image", "prompt": "x" * (RULES.max_prompt_chars + by)}, "prompt"
    if field == "reference_upload_ids":
        ids = [str(uuid.uuid4()) for _ in range(RULES.max_references + by)]
        return {"kind": "image", "prompt": "p", "reference_upload_ids": ids}, "reference_upload_ids"
    if field == "count":
        return {"kind": "image", "prompt": "p", "params": {"count": RULES.max_image_count + by}}, "count"
    seconds = RULES.max_video_seconds + by
    return {"kind": "video", "prompt": "p", "params": {"duration_seconds": seconds}}, "duration_seconds"


@pytest.mark.parametrize("field", ["prompt", "reference_upload_ids", "count", "duration_seconds"])
async def test_a_submission_over_a_limit_gets_the_domains_problem(client: AsyncTestClient, field: str) -> None:
    headers = await signed_in(client, "limits@example.com")
    for by in (1, 100_000 if field == "prompt" else 100):  # just over, and far over
        body, named = over(field, by)
        response = await client.post("/v1/generations", json=body, headers=headers)
        assert response.status_code == 422, (by, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert (problem["code"], problem["field"], problem["status"]) == ("invalid_input", named, 422)


async def test_a_submission_at_every_limit_is_accepted(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "atlimits@example.com")
    image = {"kind": "image", "prompt": "x" * RULES.max_prompt_chars, "params": {"count": RULES.max_image_count}}
    video = {"kind": "video", "prompt": "p", "params": {"duration_seconds": RULES.max_video_seconds}}
    for body in (image, video):
        response = await client.post("/v1/generations", json=body, headers=headers)
        assert response.status_code == 202, response.text
