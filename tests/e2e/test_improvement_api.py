"""The "use my content to improve the service" control through the API (policy sections 5 and 7), on memory,
SQLite and PostgreSQL: off by default, an append-only history under the policy version, an objection to
product_improvement forces it off and wins, a restriction turns it off, every hand-off's disclosure says what was
allowed, and the access report, the export and the erasure carry it."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.images import PillowMediaRenderer
from dreamina.adapters.providers.offline import OfflineRendererProvider
from dreamina.adapters.providers.replicate import ReplicateProvider
from dreamina.bootstrap import Container, build_container
from dreamina.ports.generation import GenerationKind
from dreamina.settings import load_settings
from tests.contract.vendor_emulators import TOKEN, ReplicateEmulator
from tests.e2e.conftest import UNTHROTTLED, app_for, test_overrides
from tests.e2e.data_rights_helpers import submit, submit_proven
from tests.e2e.helpers import signed_in
from tests.http_client import AsyncTestClient

ON = {"allowed": True, "method": "settings"}
OFF = {"allowed": False}


async def _put(client: AsyncTestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.put("/v1/me/improvement", json=body, headers=headers)


async def _state(client: AsyncTestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/me/improvement", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_off_by_default_and_each_choice_is_appended_under_the_policy_version(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "improve@example.com")
    state = await _state(client, headers)
    assert (state["chosen"], state["allowed"], state["objected"], state["restricted"]) == (False, False, False, False)
    assert state["history"] == [] and state["method"] is None
    turned_on = await _put(client, headers, ON)
    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json()["allowed"] is True and turned_on.json()["method"] == "settings"
    turned_off = (await _put(client, headers, OFF)).json()
    assert (turned_off["chosen"], turned_off["allowed"], turned_off["method"]) == (False, False, "api")
    history = turned_off["history"]
    assert [(h["allowed"], h["method"]) for h in history] == [(False, "api"), (True, "settings")]  # newest first
    assert all(h["policy_version"] == 1 and len(h["content_sha256"]) == 64 for h in history)
    other = await signed_in(client, "someone-else@example.com")
    assert (await _state(client, other))["history"] == []  # one subject's choice is theirs alone


async def test_the_history_is_paged_newest_first(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "pages@example.com")
    for body in (ON, OFF, ON):
        assert (await _put(client, headers, body)).status_code == 200
    first = (await client.get("/v1/me/improvement/history?limit=2", headers=headers)).json()
    assert [i["allowed"] for i in first["items"]] == [True, False] and first["next_before"]
    rest = await client.get(f"/v1/me/improvement/history?limit=2&before={first['next_before']}", headers=headers)
    assert [i["allowed"] for i in rest.json()["items"]] == [True] and rest.json()["next_before"] is None


async def test_an_objection_forces_it_off_and_wins_until_withdrawn(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "objector@example.com")
    assert (await _put(client, headers, ON)).json()["allowed"] is True
    objected = await client.put(
        "/v1/me/objections", json={"purpose": "product_improvement", "objected": True}, headers=headers
    )
    assert objected.status_code == 200
    state = await _state(client, headers)
    assert (state["chosen"], state["allowed"], state["objected"]) == (False, False, True)
    assert state["history"][0]["method"] == "objection"  # the forced-off entry, appended like any other
    refused = await _put(client, headers, ON)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "objection_in_force"
    assert (await _put(client, headers, OFF)).status_code == 200  # refusing is always possible
    await client.put("/v1/me/objections", json={"purpose": "product_improvement", "objected": False}, headers=headers)
    assert (await _state(client, headers))["allowed"] is False  # withdrawing the objection turns nothing back on
    assert (await _put(client, headers, ON)).json()["allowed"] is True


async def test_an_objection_made_as_a_privacy_request_forces_it_off_too(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "requester@example.com")
    await _put(client, headers, ON)
    done = await submit(client, headers, "objection", {"purpose": "product_improvement"})
    assert done["status"] == "completed"
    state = await _state(client, headers)
    assert (state["chosen"], state["allowed"], state["history"][0]["method"]) == (False, False, "objection")


async def test_a_restriction_turns_it_off_while_it_stands(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "restricted@example.com")
    await _put(client, headers, ON)
    await submit(client, headers, "restriction", {"action": "restrict"})
    state = await _state(client, headers)
    assert (state["chosen"], state["allowed"], state["restricted"]) == (True, False, True)
    await submit(client, headers, "restriction", {"action": "lift"})
    assert (await _state(client, headers))["allowed"] is True


async def test_bad_input_answers_a_4xx_problem(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "bad-input@example.com")
    for body in ({"allowed": "yes"}, {}, {"allowed": True, "extra": 1}, {"allowed": True, "method": "objection"}):
        response = await _put(client, headers, body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    for query in ("limit=0", "limit=101", "before=not-a-uuid"):
        assert 400 <= (await client.get(f"/v1/me/improvement/history?{query}", headers=headers)).status_code < 500
    assert (await client.get("/v1/me/improvement")).status_code == 401
    assert (await client.put("/v1/me/improvement", json=ON)).status_code == 401
    assert (await _state(client, headers))["history"] == []


async def test_the_access_report_and_the_export_carry_the_setting(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "report@example.com")
    await _put(client, headers, ON)
    access = await submit(client, headers, "access")
    report = (await client.get(f"/v1/privacy/requests/{access['id']}/report", headers=headers)).json()
    assert report["content_for_improvement"] == {
        "chosen": True,
        "allowed": True,
        "default": False,
        "control": "/v1/me/improvement",
    }
    assert "improvement_choices" in {h["store"] for h in report["held"]}
    request_id = (await submit_proven(client, headers, "export"))["id"]
    await container.data_rights.jobs.run_due()
    download = await client.get(f"/v1/privacy/requests/{request_id}/download", headers=headers)
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    choices = json.loads(archive.read("improvement_choices.json"))
    assert [(c["allowed"], c["method"], c["policy_version"]) for c in choices] == [(True, "settings", 1)]


@pytest.fixture
async def vendor(
    uow_factory: Any, tmp_path: Any
) -> AsyncIterator[tuple[AsyncTestClient, Container, ReplicateEmulator]]:
    """The service with Replicate (an emulation of its documented API) for images."""
    emulator = ReplicateEmulator()
    offline = OfflineRendererProvider(PillowMediaRenderer())
    providers = {
        GenerationKind.IMAGE: ReplicateProvider(TOKEN, transport=emulator.transport, poll_seconds=0),
        GenerationKind.VIDEO: offline,
    }
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    container = build_container(settings, uow=uow_factory, providers=providers, **test_overrides())
    async with AsyncTestClient(app=app_for(container)) as client:
        yield client, container, emulator
    await container.aclose()


async def test_each_hand_off_through_the_api_records_what_was_allowed(
    vendor: tuple[AsyncTestClient, Container, ReplicateEmulator],
) -> None:
    client, container, emulator = vendor
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    headers = await signed_in(client, "handoff@example.com")
    steps: list[tuple[str, bool]] = [("default", False), ("allowed", True), ("objected", False)]
    for step, _ in steps:
        if step == "allowed":
            await _put(client, headers, ON)
        if step == "objected":
            await client.put(
                "/v1/me/objections", json={"purpose": "product_improvement", "objected": True}, headers=headers
            )
        submitted = await client.post("/v1/generations", json={"kind": "image", "prompt": "a harbour"}, headers=headers)
        assert submitted.status_code == 202, submitted.text
        await container.generation.queue.drain(container.generation.runner.run)  # type: ignore[attr-defined]
        view = await client.get(f"/v1/generations/{submitted.json()['id']}", headers=headers)
        assert view.json()["status"] == "succeeded"
        clock.advance(timedelta(seconds=1))  # the ledger lists oldest first
    listed = (await client.get("/v1/me/disclosures", headers=headers)).json()["disclosures"]
    assert [(d["processor"], d["improvement_allowed"]) for d in listed] == [("replicate", a) for _, a in steps]
    assert len({frozenset(body) for body in emulator.bodies}) == 1  # the same documented fields every time
    subject = UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    async with container.infra.uow() as uow:
        assert [d.improvement_allowed for d in await uow.disclosures.list_for_subject(subject)] == [False, True, False]
