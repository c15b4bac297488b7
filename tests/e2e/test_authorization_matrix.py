"""Authorization matrix: every operation in the OpenAPI schema has a declared audience, and each audience is enforced.

A new route without an entry here fails the first test, so nobody ships an endpoint without deciding who may call it.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from dreamina.bootstrap import Container, memory_database

from .helpers import signed_in

PUBLIC = "public"  # anyone, signed in or not
SUBJECT = "subject"  # a signed-in subject, acting on their own data only
SIGNED = "signed"  # anyone holding an unexpired URL signed by the service; nobody without one
OWNED = "owned"  # a signed-in subject, on one of their own resources named in the path; others get 404
REVIEWED = "reviewed"  # a signed-in subject answering the open age review of their own account; without one: 409
ANALYSTS = "staff:privacy_officer,admin"
EVERY_STAFF_ROLE = "staff:support,privacy_officer,admin"
PRIVACY_DESK = "staff:privacy_officer,admin"  # privacy tickets: support staff never see them
SUPPORT_DESK = "staff:support,admin"
STAFF_ROLES = ("support", "privacy_officer", "admin")

AUDIENCE: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
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
    ("GET", "/v1/consent/history"): PUBLIC,
    ("POST", "/v1/analytics/events"): PUBLIC,
    ("GET", "/v1/me/objections"): SUBJECT,
    ("PUT", "/v1/me/objections"): SUBJECT,
    ("GET", "/v1/me/policy-status"): SUBJECT,
    ("POST", "/v1/me/policy-acceptances"): SUBJECT,
    ("GET", "/v1/me/disclosures"): SUBJECT,
    ("GET", "/v1/admin/analytics/summary"): ANALYSTS,
    ("POST", "/v1/admin/policy/versions"): ANALYSTS,
    ("GET", "/v1/admin/policy/versions/{version}/notices"): ANALYSTS,
    ("GET", "/v1/admin/subjects/{subject_id}/consent"): EVERY_STAFF_ROLE,
    ("GET", "/v1/privacy/requests"): SUBJECT,
    ("POST", "/v1/privacy/requests"): SUBJECT,
    ("GET", "/v1/privacy/requests/{request_id}"): OWNED,
    ("POST", "/v1/privacy/requests/{request_id}/cancel"): OWNED,
    ("POST", "/v1/privacy/requests/{request_id}/code"): OWNED,
    ("GET", "/v1/privacy/requests/{request_id}/download"): OWNED,
    ("GET", "/v1/privacy/requests/{request_id}/report"): OWNED,
    ("POST", "/v1/privacy/requests/{request_id}/verify"): OWNED,
    ("POST", "/v1/uploads"): SUBJECT,
    ("GET", "/v1/generations"): SUBJECT,
    ("POST", "/v1/generations"): SUBJECT,
    ("GET", "/v1/generations/{generation_id}"): OWNED,
    ("DELETE", "/v1/generations/{generation_id}"): OWNED,
    ("POST", "/v1/generations/{generation_id}/cancel"): OWNED,
    ("GET", "/v1/objects/{key}"): SIGNED,
    ("GET", "/v1/billing/balance"): SUBJECT,
    ("GET", "/v1/billing/ledger"): SUBJECT,
    ("POST", "/v1/billing/checkout"): SUBJECT,
    ("GET", "/v1/billing/packs"): PUBLIC,
    ("GET", "/v1/billing/checkout/return"): PUBLIC,
    ("POST", "/v1/billing/webhooks/stripe"): SIGNED,
    ("GET", "/v1/admin/privacy/requests"): EVERY_STAFF_ROLE,
    ("GET", "/v1/admin/privacy/requests/{request_id}"): EVERY_STAFF_ROLE,
    ("POST", "/v1/admin/privacy/requests/{request_id}/approve"): ANALYSTS,
    ("POST", "/v1/admin/privacy/requests/{request_id}/reject"): ANALYSTS,
    (
        "POST",
        "/v1/admin/privacy/requests/{request_id}/extend",
    ): ANALYSTS,  # Stripe-Signature, checked against the endpoint secret
    ("POST", "/v1/admin/privacy/requests/{request_id}/expedite"): ANALYSTS,
    ("POST", "/v1/privacy/child-reports"): PUBLIC,
    ("POST", "/v1/me/age-review/statement"): REVIEWED,
    ("GET", "/v1/admin/child-reports"): EVERY_STAFF_ROLE,
    ("GET", "/v1/admin/child-reports/{report_id}"): EVERY_STAFF_ROLE,
    ("POST", "/v1/admin/child-reports/{report_id}/confirm"): ANALYSTS,
    ("POST", "/v1/admin/child-reports/{report_id}/dismiss"): ANALYSTS,
    ("POST", "/v1/support/tickets"): PUBLIC,  # signed in or not; anonymous senders give a reply-to address
    ("GET", "/v1/support/tickets"): SUBJECT,
    ("GET", "/v1/support/tickets/{ticket_id}"): OWNED,
    ("GET", "/v1/admin/privacy/tickets"): PRIVACY_DESK,
    ("GET", "/v1/admin/privacy/tickets/{ticket_id}"): PRIVACY_DESK,
    ("POST", "/v1/admin/privacy/tickets/{ticket_id}/reply"): PRIVACY_DESK,
    ("POST", "/v1/admin/privacy/tickets/{ticket_id}/close"): PRIVACY_DESK,
    ("GET", "/v1/admin/support/tickets"): SUPPORT_DESK,
    ("GET", "/v1/admin/support/tickets/{ticket_id}"): SUPPORT_DESK,
    ("POST", "/v1/admin/support/tickets/{ticket_id}/reply"): SUPPORT_DESK,
    ("POST", "/v1/admin/support/tickets/{ticket_id}/close"): SUPPORT_DESK,
    ("POST", "/v1/auth/verify-email"): PUBLIC,  # the mailed token is the proof
    ("POST", "/v1/auth/verify-email/resend"): SUBJECT,
    ("POST", "/v1/me/email/confirm"): PUBLIC,  # the token mailed to the new address is the proof
    ("POST", "/v1/me/email/undo"): PUBLIC,  # the token mailed to the old address is the proof
    ("POST", "/v1/me/password"): SUBJECT,
    ("POST", "/v1/auth/password-reset"): PUBLIC,
    ("POST", "/v1/auth/password-reset/complete"): PUBLIC,  # the mailed code is the credential
    ("POST", "/v1/auth/logout-all"): SUBJECT,
    ("GET", "/v1/me/sessions"): SUBJECT,
    ("DELETE", "/v1/me/sessions/{session_id}"): OWNED,
}

# A harmless body for operations that need one (validation runs after authentication).
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/v1/me"): {},
    ("PUT", "/v1/me/objections"): {"purpose": "marketing", "objected": False},
    ("POST", "/v1/me/policy-acceptances"): {"version": 1},
    ("POST", "/v1/admin/policy/versions"): {"text": "not a policy"},  # refused after the guard, never published
    ("POST", "/v1/privacy/requests"): {"type": "access", "details": {}},
    ("POST", "/v1/privacy/requests/{request_id}/verify"): {"password": "correct horse battery staple"},
    ("POST", "/v1/privacy/requests/{request_id}/cancel"): {"confirm": True},
    ("POST", "/v1/generations"): {"kind": "image", "prompt": "a quiet harbour"},
    ("POST", "/v1/billing/checkout"): {"pack_id": "starter"},
    ("POST", "/v1/admin/privacy/requests/{request_id}/approve"): {"reason": "matrix"},
    ("POST", "/v1/admin/privacy/requests/{request_id}/reject"): {"reason": "matrix"},
    ("POST", "/v1/admin/privacy/requests/{request_id}/extend"): {"reason": "matrix"},
    ("POST", "/v1/admin/privacy/requests/{request_id}/expedite"): {"reason": "matrix"},
    ("POST", "/v1/privacy/child-reports"): {"email": "nobody@example.com", "contact": "reporter@example.org"},
    ("POST", "/v1/admin/child-reports/{report_id}/confirm"): {"reason": "matrix"},
    ("POST", "/v1/admin/child-reports/{report_id}/dismiss"): {"reason": "matrix"},
    ("POST", "/v1/me/age-review/statement"): {"statement": "I am an adult"},
    ("POST", "/v1/admin/privacy/tickets/{ticket_id}/reply"): {"message": "matrix", "close": False},
    ("POST", "/v1/admin/privacy/tickets/{ticket_id}/close"): {"reason": "matrix"},
    ("POST", "/v1/admin/support/tickets/{ticket_id}/reply"): {"message": "matrix", "close": False},
    ("POST", "/v1/admin/support/tickets/{ticket_id}/close"): {"reason": "matrix"},
    ("POST", "/v1/auth/verify-email"): {"token": "matrix"},  # refused as invalid_token (400), never a 401/403
    ("POST", "/v1/me/email/confirm"): {"token": "matrix"},
    ("POST", "/v1/me/email/undo"): {"token": "matrix"},
    ("POST", "/v1/me/password"): {
        "current_password": "correct horse battery staple",
        "new_password": "a new and unguessable passphrase",
    },
    ("POST", "/v1/auth/password-reset"): {"email": "nobody@example.com"},
    ("POST", "/v1/auth/password-reset/complete"): {"token": "not-a-code", "new_password": "never set this way x"},
}


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# Multipart operations: the files they are called with.
FILES: dict[tuple[str, str], Any] = {("POST", "/v1/uploads"): {"file": ("ref.png", _png(), "image/png")}}


async def _call(client: AsyncTestClient, operation: tuple[str, str], path: str, headers: dict[str, str]) -> Any:
    method = operation[0]
    if operation in FILES:
        return await client.request(method, path, headers=headers, files=FILES[operation])
    return await client.request(method, path, headers=headers, json=BODIES.get(operation))


async def _make_resource(client: AsyncTestClient, headers: dict[str, str], parameter: str) -> str:
    """Create one resource of the owner's, of the kind a path parameter names; returns its id."""
    if parameter == "request_id":
        created = await client.post("/v1/privacy/requests", headers=headers, json={"type": "export", "details": {}})
        assert created.status_code == 202, created.text
        return str(created.json()["id"])
    if parameter == "generation_id":
        created = await client.post("/v1/generations", headers=headers, json={"kind": "image", "prompt": "a harbour"})
        assert created.status_code == 202, created.text
        return str(created.json()["id"])
    if parameter == "ticket_id":
        return await _make_ticket(client, headers, "privacy")
    if parameter == "session_id":  # the owner's own (current) session
        listed = await client.get("/v1/me/sessions", headers=headers)
        assert listed.status_code == 200, listed.text
        return str(next(s["id"] for s in listed.json() if s["current"]))
    raise AssertionError(f"no factory for path parameter {parameter}: add one to _make_resource")


async def _make_ticket(client: AsyncTestClient, headers: dict[str, str], category: str) -> str:
    ticket = {"category": category, "subject": "Matrix", "message": "A ticket for the matrix test"}
    created = await client.post("/v1/support/tickets", headers=headers, json=ticket)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/admin/subjects/{subject_id}/consent"): {"reason": "authorization matrix test"},
    ("GET", "/v1/admin/privacy/requests/{request_id}"): {"reason": "authorization matrix test"},
    ("GET", "/v1/admin/child-reports/{report_id}"): {"reason": "authorization matrix test"},
    ("GET", "/v1/admin/privacy/tickets/{ticket_id}"): {"reason": "authorization matrix test"},
    ("GET", "/v1/admin/support/tickets/{ticket_id}"): {"reason": "authorization matrix test"},
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
    path = operation[1]
    alice = await signed_in(client, "alice@example.com", display_name="Alice")
    bob = await signed_in(client, "bob@example.com", display_name="Bob")
    response = await _call(client, operation, path, bob)
    assert response.status_code < 400, response.text
    assert "alice" not in response.text.lower()
    mine = await client.get("/v1/me", headers=alice)
    assert mine.status_code == 200 and mine.json()["email"] == "alice@example.com"


@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v == SIGNED))
async def test_signed_operations_refuse_unsigned_and_forged_urls(
    operation: tuple[str, str], client: AsyncTestClient
) -> None:
    method, template = operation
    headers = await signed_in(client, "signer@example.com")  # even a signed-in subject needs the signature
    path = template.replace("{key}", "outputs/someone/some-generation/0.png")
    forged = {"Stripe-Signature": "t=1,v1=" + "0" * 64}
    for query, extra in (("", {}), ("?expires=9999999999&signature=" + "0" * 64, forged)):
        response = await client.request(method, path + query, headers={**headers, **extra}, content=b"{}")
        assert response.status_code in {400, 403, 404}, (query, response.text)  # never the object


@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v == OWNED))
async def test_owned_resources_are_invisible_to_everyone_else(
    operation: tuple[str, str], client: AsyncTestClient
) -> None:
    method, template = operation
    owner = await signed_in(client, "owner@example.com")
    other = await signed_in(client, "other@example.com")
    parameter = template.split("{", 1)[1].split("}", 1)[0]
    path = template.replace("{" + parameter + "}", await _make_resource(client, owner, parameter))
    body = BODIES.get(operation)
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401, anonymous.text
    stranger = await client.request(method, path, headers=other, json=body)
    assert stranger.status_code == 404, (operation, stranger.text)  # 404, not 403: existence is not revealed
    assert stranger.json()["code"] == "not_found"


async def _child_report(client: AsyncTestClient, container: Container) -> str:
    """An open child report about an account of its own (reporting ``subject`` would put the caller under review)."""
    await signed_in(client, "reported@example.com")
    reported = await client.post(
        "/v1/privacy/child-reports", json={"email": "reported@example.com", "contact": "reporter@example.org"}
    )
    assert reported.status_code == 202, reported.text
    await container.children.matching.run_due()
    async with container.infra.uow() as uow:
        (report,) = await uow.child_reports.list_open(10)
    return str(report.id)


@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v == REVIEWED))
async def test_review_answers_need_the_callers_own_open_review(
    operation: tuple[str, str], client: AsyncTestClient, container: Container
) -> None:
    method, path = operation
    for headers in ({}, {"Authorization": "Bearer forged-token-0123456789abcdef"}):
        response = await client.request(method, path, headers=headers, json=BODIES.get(operation))
        assert response.status_code == 401, (operation, headers, response.text)
    bystander = await signed_in(client, "bystander@example.com")
    refused = await _call(client, operation, path, bystander)
    assert refused.status_code == 409 and refused.json()["code"] == "no_age_review", refused.text
    reported = await signed_in(client, "reported@example.com")
    await client.post(
        "/v1/privacy/child-reports", json={"email": "reported@example.com", "contact": "reporter@example.org"}
    )
    await container.children.matching.run_due()
    answered = await _call(client, operation, path, reported)
    assert answered.status_code == 200, answered.text
    async with container.infra.uow() as uow:
        (report,) = await uow.child_reports.list_open(10)
    assert report.statement_at is not None  # on the caller's own report; the bystander's call stored nothing


@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v.startswith("staff:")))
async def test_staff_operations_need_the_right_role(
    operation: tuple[str, str], client: AsyncTestClient, container: Container
) -> None:
    method, template = operation
    allowed = set(AUDIENCE[operation].removeprefix("staff:").split(","))
    callers: dict[str, dict[str, str]] = {"anonymous": {}, "subject": await signed_in(client, "plain@example.com")}
    for role in STAFF_ROLES:
        callers[role] = await signed_in(client, f"{role}@example.com")
        await container.identity.staff.grant(f"{role}@example.com", role)
    subject_id = (await client.get("/v1/me", headers=callers["subject"])).json()["id"]
    path = template.replace("{subject_id}", subject_id).replace("{version}", "1")
    if "{request_id}" in path:
        path = path.replace("{request_id}", await _make_resource(client, callers["subject"], "request_id"))
    if "{report_id}" in path:
        path = path.replace("{report_id}", await _child_report(client, container))
    if "{ticket_id}" in path:  # a ticket of the queue the route serves, so an allowed role finds it
        category = "privacy" if path.startswith("/v1/admin/privacy/") else "billing"
        path = path.replace("{ticket_id}", await _make_ticket(client, callers["subject"], category))
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


CALLERS = ("anonymous", "user_a", "user_b", "support", "privacy_officer", "admin")
ALLOW, DENY_401, DENY_403, HIDDEN_404, NEEDS_SIGNATURE = "allow", "401", "403", "404", "signature"


def expected_outcome(audience: str, caller: str) -> str:
    """The matrix itself: what each caller may do under each audience (resources belong to ``user_a``)."""
    if audience == PUBLIC:
        return ALLOW
    if audience == SIGNED:
        return NEEDS_SIGNATURE  # nobody without a valid signature, however signed in
    if caller == "anonymous":
        return DENY_401
    if audience == SUBJECT:
        return ALLOW  # on their own data only: test_subject_operations_act_only_on_the_callers_data
    if audience == OWNED:
        return ALLOW if caller == "user_a" else HIDDEN_404  # staff reach subjects' data only through admin routes
    if audience == REVIEWED:
        return ALLOW  # 409 without a review of their own: test_review_answers_need_the_callers_own_open_review
    assert audience.startswith("staff:"), audience
    return ALLOW if caller in audience.removeprefix("staff:").split(",") else DENY_403


def _matches(outcome: str, status: int) -> bool:
    if status >= 500:
        return False
    return {
        ALLOW: status not in {401, 403, 404},
        DENY_401: status == 401,
        DENY_403: status == 403,
        HIDDEN_404: status == 404,
        NEEDS_SIGNATURE: status in {400, 403, 404},
    }[outcome]


@pytest.mark.parametrize("operation", sorted(AUDIENCE))
async def test_the_full_matrix(operation: tuple[str, str], tmp_path: Any) -> None:
    """Every operation x {anonymous, user A, user B, support, privacy officer, admin}: the expected allow/deny."""
    from litestar.testing import AsyncTestClient as Client

    from dreamina.bootstrap import build_container
    from dreamina.entrypoints.http.app import create_app
    from dreamina.settings import load_settings

    from .conftest import UNTHROTTLED, test_overrides

    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    method, template = operation
    audience = AUDIENCE[operation]
    async with Client(app=create_app(container=container)) as client:
        headers: dict[str, dict[str, str]] = {"anonymous": {}}
        for caller in CALLERS[1:]:
            headers[caller] = await signed_in(client, f"{caller}@example.com")
            if caller in STAFF_ROLES:
                await container.identity.staff.grant(f"{caller}@example.com", caller)
        subject_id = (await client.get("/v1/me", headers=headers["user_a"])).json()["id"]
        path = template.replace("{subject_id}", subject_id).replace("{key}", "outputs/x/y/0.png")
        path = path.replace("{version}", "1")  # the shipped policy version
        while "{" in path:
            parameter = path.split("{", 1)[1].split("}", 1)[0]
            if parameter == "report_id":
                made = await _child_report(client, container)
            elif parameter == "ticket_id" and path.startswith("/v1/admin/support/"):
                made = await _make_ticket(client, headers["user_a"], "billing")  # a ticket of that queue
            else:
                made = await _make_resource(client, headers["user_a"], parameter)
            path = path.replace("{" + parameter + "}", made)
        # user_a goes last: an allowed call may change or delete the resource the others were refused
        hidden: str | None = None  # what a stranger is told (404) about user_a's resource
        for caller in sorted(CALLERS, key=lambda c: c == "user_a"):
            response = await client.request(
                method,
                path,
                headers=headers[caller],
                json=None if operation in FILES else BODIES.get(operation),
                files=FILES.get(operation),
                params=QUERIES.get(operation),
            )
            outcome = expected_outcome(audience, caller)
            if outcome == HIDDEN_404:
                hidden = response.json().get("detail")
            if outcome == ALLOW and response.status_code == 404 and hidden is not None:
                # the owner passed authorization and was told something else (e.g. "no export archive yet")
                assert response.json().get("detail") != hidden, (operation, caller, response.text[:300])
                continue
            assert _matches(outcome, response.status_code), (operation, caller, outcome, response.text[:300])
    await container.aclose()


def test_the_matrix_covers_every_operation_for_six_callers() -> None:
    cells = {(op, caller): expected_outcome(AUDIENCE[op], caller) for op in AUDIENCE for caller in CALLERS}
    assert len(cells) == 6 * len(AUDIENCE)
    denied = [cell for cell, outcome in cells.items() if outcome != ALLOW]
    assert denied, "a matrix where everyone may do everything proves nothing"
