"""Authorization matrix: every operation in the OpenAPI schema has a declared audience, and each audience is enforced.

A new route without an entry here fails the first test, so nobody ships an endpoint without deciding who may call it.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from dreamina.bootstrap import Container

from .helpers import signed_in

PUBLIC = "public"  # anyone, signed in or not
SUBJECT = "subject"  # a signed-in subject, acting on their own data only
ANALYSTS = "staff:privacy_officer,admin"
EVERY_STAFF_ROLE = "staff:support,privacy_officer,admin"
STAFF_ROLES = ("support", "privacy_officer", "admin")

AUDIENCE: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("POST", "/v1/accounts"): PUBLIC,
    ("POST", "/v1/auth/token"): PUBLIC,
    ("POST", "/v1/auth/logout"): SUBJECT,
    ("GET", "/v1/me"): SUBJECT,
    ("PATCH", "/v1/me"): SUBJECT,
    ("GET", "/v1/privacy/policy"): PUBLIC,
    ("GET", "/v1/privacy/policy/versions"): PUBLIC,
    ("GET", "/v1/privacy/processors"): PUBLIC,
    ("GET", "/.well-known/gpc.json"): PUBLIC,
    ("GET", "/v1/consent"): PUBLIC,
    ("PUT", "/v1/consent"): PUBLIC,
    ("POST", "/v1/analytics/events"): PUBLIC,
    ("GET", "/v1/me/objections"): SUBJECT,
    ("PUT", "/v1/me/objections"): SUBJECT,
    ("GET", "/v1/me/policy-status"): SUBJECT,
    ("POST", "/v1/me/policy-acceptances"): SUBJECT,
    ("GET", "/v1/me/disclosures"): SUBJECT,
    ("GET", "/v1/admin/analytics/summary"): ANALYSTS,
    ("POST", "/v1/admin/policy/versions"): ANALYSTS,
    ("GET", "/v1/admin/subjects/{subject_id}/consent"): EVERY_STAFF_ROLE,
}

# A harmless body for operations that need one (validation runs after authentication).
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/v1/me"): {},
    ("PUT", "/v1/me/objections"): {"purpose": "marketing", "objected": False},
    ("POST", "/v1/me/policy-acceptances"): {"version": 1},
    ("POST", "/v1/admin/policy/versions"): {"text": "not a policy"},  # refused after the guard, never published
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/admin/subjects/{subject_id}/consent"): {"reason": "authorization matrix test"},
}


async def _operations(client: AsyncTestClient) -> set[tuple[str, str]]:
    schema = (await client.get("/schema/openapi.json")).json()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


async def test_every_operation_has_a_declared_audience(client: AsyncTestClient) -> None:
    operations = await _operations(client)
    assert operations - set(AUDIENCE) == set(), "declare the audience of the new operations in AUDIENCE"
    assert set(AUDIENCE) - operations == set(), "AUDIENCE names operations that no longer exist"


@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v == SUBJECT))
async def test_subject_operations_refuse_anonymous_and_forged_tokens(
    operation: tuple[str, str], client: AsyncTestClient
) -> None:
    method, path = operation
    for headers in ({}, {"Authorization": "Bearer forged-token-0123456789abcdef"}):
        response = await client.request(method, path, headers=headers, json=BODIES.get(operation))
        assert response.status_code == 401, (operation, headers, response.text)
        assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v == SUBJECT))
async def test_subject_operations_act_only_on_the_callers_data(
    operation: tuple[str, str], client: AsyncTestClient
) -> None:
    method, path = operation
    alice = await signed_in(client, "alice@example.com", display_name="Alice")
    bob = await signed_in(client, "bob@example.com", display_name="Bob")
    response = await client.request(method, path, headers=bob, json=BODIES.get(operation))
    assert response.status_code < 400, response.text
    assert "alice" not in response.text.lower()
    mine = await client.get("/v1/me", headers=alice)
    assert mine.status_code == 200 and mine.json()["email"] == "alice@example.com"


@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v.startswith("staff:")))
async def test_staff_operations_need_the_right_role(
    operation: tuple[str, str], client: AsyncTestClient, container: Container
) -> None:
    method, template = operation
    allowed = set(AUDIENCE[operation].removeprefix("staff:").split(","))
    callers: dict[str, dict[str, str]] = {"anonymous": {}, "subject": await signed_in(client, "plain@example.com")}
    for role in STAFF_ROLES:
        callers[role] = await signed_in(client, f"{role}@example.com")
        await container.staff.grant(f"{role}@example.com", role)
    subject_id = (await client.get("/v1/me", headers=callers["subject"])).json()["id"]
    path = template.replace("{subject_id}", subject_id)
    for caller, headers in callers.items():
        response = await client.request(
            method, path, headers=headers, json=BODIES.get(operation), params=QUERIES.get(operation)
        )
        if caller == "anonymous":
            assert response.status_code == 401, (caller, response.text)
        elif caller in allowed:
            assert response.status_code not in {401, 403}, (caller, response.text)
        else:
            assert response.status_code == 403, (caller, response.text)
            assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v == PUBLIC and k[0] == "GET"))
async def test_public_reads_need_no_credentials(operation: tuple[str, str], client: AsyncTestClient) -> None:
    method, path = operation
    response = await client.request(method, path)
    assert response.status_code == 200, response.text
