"""A privacy request as its subject and staff see it carries its own type's ``details`` and an ``outcome`` of known
members, exactly as stored (no member added or dropped), and validates against the published discriminated union;
so does the access report against its schema (issue 16 finding 2)."""

from __future__ import annotations

from typing import Any

import jsonschema

from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .data_rights_helpers import submit, submit_proven
from .helpers import PASSWORD, signed_in

REQUEST = "/v1/privacy/requests/{request_id}"
STAFF_VIEW = "/v1/admin/privacy/requests/{request_id}"


def _validator(document: dict[str, Any], path: str) -> jsonschema.Draft202012Validator:
    """The JSON Schema of ``GET path``'s 200 answer, its references resolved in the document's components."""
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


async def test_every_request_type_shows_its_details_and_outcome_as_stored(
    client: AsyncTestClient, container: Container
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    subject_view, staff_view = _validator(document, REQUEST), _validator(document, STAFF_VIEW)
    headers = await signed_in(client, "shapes@example.com", display_name="Ada")
    officer = await signed_in(client, "shapes.officer@example.com")
    await container.identity.staff.grant("shapes.officer@example.com", "privacy_officer")

    async def shown(request_id: str) -> dict[str, Any]:
        answer = await client.get(REQUEST.format(request_id=request_id), headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        subject_view.validate(body)
        return body

    cases: list[tuple[str, dict[str, Any] | None, dict[str, Any], dict[str, Any]]] = [
        # type, details sent, details shown, outcome shown
        ("access", None, {}, {"report": "/v1/privacy/requests/{id}/report"}),
        (
            "access",
            {"note": "for my records"},
            {"note": "for my records"},
            {"report": "/v1/privacy/requests/{id}/report"},
        ),
        ("rectification", {"corrections": {"display_name": "Ada L."}}, None, {"fields_corrected": ["display_name"]}),
        ("objection", {"purpose": "analytics"}, None, {"objection_recorded": "analytics"}),
        ("objection", {"purpose": "analytics", "withdraw": True}, None, {"objection_withdrawn": "analytics"}),
        ("restriction", {"reason": "checks"}, {"action": "restrict", "reason": "checks"}, {"restriction": "in_force"}),
        ("restriction", {"action": "lift"}, None, {"restriction": "lifted"}),
    ]
    for kind, sent, details, outcome in cases:
        accepted = await submit(client, headers, kind, sent)
        body = await shown(accepted["id"])
        assert body["type"] == kind and body["status"] == "completed", body
        assert body["details"] == (sent if details is None else details), body
        assert body["outcome"] == {
            k: v.format(id=accepted["id"]) if isinstance(v, str) else v for k, v in outcome.items()
        }

    # a free-text correction waits for staff; staff see the same shape, and their approval is the outcome
    queued = await submit(client, headers, "rectification", {"free_text": "my birth date is 1990-04-02"})
    seen = await client.get(STAFF_VIEW.format(request_id=queued["id"]), headers=officer, params={"reason": "review"})
    assert seen.status_code == 200, seen.text
    staff_view.validate(seen.json())
    assert seen.json()["details"] == {"free_text": "my birth date is 1990-04-02"} and seen.json()["outcome"] == {}
    approved = await client.post(
        f"/v1/admin/privacy/requests/{queued['id']}/approve", headers=officer, json={"reason": "checked the registry"}
    )
    assert approved.status_code == 200, approved.text
    assert (await shown(queued["id"]))["outcome"] == {"resolved_by_staff": True}

    # an export's outcome: the archive's path, size and expiry, typed
    export = await submit_proven(client, headers, "export")
    assert (await shown(export["id"]))["outcome"] == {}
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    outcome = (await shown(export["id"]))["outcome"]
    assert set(outcome) == {"download", "archive_bytes", "expires_at"} and outcome["archive_bytes"] > 0
    assert outcome["download"] == f"/v1/privacy/requests/{export['id']}/download"

    # an erasure during its grace period: its reason, nothing done yet
    erasure = await submit(client, headers, "erasure", {"reason": "leaving"}, password=PASSWORD)
    body = await shown(erasure["id"])
    assert (body["status"], body["details"], body["outcome"]) == ("scheduled", {"reason": "leaving"}, {})


async def test_the_access_report_validates_against_its_schema(client: AsyncTestClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    report_schema = _validator(document, REQUEST + "/report")
    headers = await signed_in(client, "report.shape@example.com", display_name="Ada")
    assert (await client.post("/v1/generations", headers=headers, json={"kind": "image", "prompt": "a cat"})).is_success
    access = await submit(client, headers, "access")
    report = (await client.get(REQUEST.format(request_id=access["id"]) + "/report", headers=headers)).json()
    report_schema.validate(report)
    assert set(report) == {
        "subject_id",
        "categories",
        "purposes",
        "sources",
        "held",
        "processors_received",
        "content_for_improvement",
        "retention",
        "automated_decision_making",
        "rights",
    }
    assert set(report["sources"]) == set(report["categories"]) & {"account", "content", "usage", "technical", "payment"}
    assert set(report["retention"]) == {h["store"] for h in report["held"]}
