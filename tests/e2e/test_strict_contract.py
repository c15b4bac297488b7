"""The HTTP contract is strict where the schema says so: JSON values are not coerced from strings or floats, JSON is
read only as ``application/json``, and ``OPTIONS`` lists every method a path takes."""

from __future__ import annotations

import json
from typing import Any

from tests.http_client import AsyncTestClient

from .helpers import sign_up_body, signed_in

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


async def test_strings_and_floats_are_not_coerced_to_numbers_or_booleans(client: AsyncTestClient) -> None:
    body = _problem(
        await client.post("/v1/accounts", json=sign_up_body("s@example.com", accept_policy_version=1.0)), 400
    )
    assert body["code"] == "validation_failed" and body["errors"][0]["key"] == "accept_policy_version"
    headers = await signed_in(client, "strict@example.com")
    retention = await client.patch("/v1/me", json={"content_retention_days": "30"}, headers=headers)
    assert _problem(retention, 400)["errors"][0]["key"] == "content_retention_days"
    count = await client.post(
        "/v1/generations", json={"kind": "image", "prompt": "a cat", "params": {"count": "1"}}, headers=headers
    )
    assert _problem(count, 400)["errors"][0]["key"] == "params.count"
    consent = await client.put("/v1/consent", json={"functional": False, "analytics": 0, "marketing": False})
    assert _problem(consent, 400)["errors"][0]["key"] == "analytics"
    nested = await client.put("/v1/consent", json={"functional": False, "analytics": {}, "marketing": False})
    _problem(nested, 400)
    # The same requests with honest JSON types are accepted.
    assert (await client.patch("/v1/me", json={"content_retention_days": 30}, headers=headers)).status_code == 200
    assert (
        await client.put("/v1/consent", json={"functional": False, "analytics": False, "marketing": False})
    ).is_success


async def test_json_is_read_only_as_application_json(client: AsyncTestClient) -> None:
    raw = json.dumps(sign_up_body("plain@example.com")).encode()
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml", ""):
        response = await client.post("/v1/accounts", content=raw, headers={"content-type": media_type})
        assert _problem(response, 415)["code"] == "unsupported_media_type", media_type
    accepted = await client.post(
        "/v1/accounts", content=raw, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert accepted.status_code == 201, accepted.text


async def test_options_allows_every_method_the_path_takes(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    checked = 0
    for path, item in schema["paths"].items():
        documented = {m.upper() for m in item if m in {"get", "post", "put", "patch", "delete"}}
        concrete = path
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["in"] == "path":
                    concrete = concrete.replace("{" + parameter["name"] + "}", _sample(parameter["schema"]))
        response = await client.options(concrete)
        assert response.status_code == 204, (path, response.status_code)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == documented | {"OPTIONS"}, (path, allowed, documented)
        checked += 1
    assert checked >= 60


def _sample(schema: dict[str, Any]) -> str:
    if schema.get("type") == "integer":
        return "1"
    return "00000000-0000-0000-0000-000000000001" if schema.get("format") == "uuid" else "k"
