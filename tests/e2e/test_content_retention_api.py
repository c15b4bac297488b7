"""Policy section 6 over HTTP: the subject chooses how long generations are kept (``PATCH /v1/me``), the choice
is shown, audited by name and enforced by the sweep; ``GET /v1/privacy/policy`` publishes the schedule."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.bootstrap import Container, declared_data_map
from dreamina.ports.generation import GenerationStatus
from tests.http_client import AsyncTestClient

from ..contract.generation_records import make_generation
from .helpers import signed_in
from .test_generation_api import png_bytes, settle, store_of, upload


async def test_the_setting_is_shown_changed_and_audited_by_name(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "keep@example.com")
    me = (await client.get("/v1/me", headers=headers)).json()
    assert me["content_retention_days"] is None  # default: kept until the subject deletes them
    changed = await client.patch("/v1/me", headers=headers, json={"content_retention_days": 30})
    assert changed.status_code == 200, changed.text
    assert changed.json()["content_retention_days"] == 30
    assert (await client.get("/v1/me", headers=headers)).json()["content_retention_days"] == 30
    assert (await client.patch("/v1/me", headers=headers, json={"content_retention_days": 30})).status_code == 200
    back = await client.patch("/v1/me", headers=headers, json={"content_retention_days": None})
    assert back.json()["content_retention_days"] is None
    async with container.infra.uow() as uow:
        events = await uow.audit.list_for_subject(UUID(me["id"]))
    assert [(e.action, e.fields, e.actor_kind) for e in events] == [
        ("setting_changed", ("content_retention_days",), "subject"),
        ("setting_changed", ("content_retention_days",), "subject"),
    ]
    assert all("30" not in (e.reason or "") for e in events)  # the field's name, never its value


@pytest.mark.parametrize(
    ("value", "status"), [(0, 422), (3651, 422), (-5, 422), ("thirty", 400), (1.5, 400), (True, 400), ({}, 400)]
)
async def test_out_of_range_or_mistyped_values_are_refused_and_nothing_changes(
    client: AsyncTestClient, value: object, status: int
) -> None:
    headers = await signed_in(client, "strict@example.com")
    refused = await client.patch(
        "/v1/me", headers=headers, json={"content_retention_days": value, "display_name": "Changed"}
    )
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    if status == 422:
        assert refused.json()["field"] == "content_retention_days"
    me = (await client.get("/v1/me", headers=headers)).json()
    assert me["content_retention_days"] is None and me["display_name"] != "Changed"


async def test_the_bounds_are_accepted_together_with_a_correction(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "bounds@example.com")
    for days in (1, 3650):
        both = await client.patch("/v1/me", headers=headers, json={"content_retention_days": days, "display_name": "B"})
        assert both.status_code == 200 and both.json()["content_retention_days"] == days
        assert both.json()["display_name"] == "B"


async def test_the_sweep_deletes_generations_after_the_chosen_days(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "weekly@example.com")
    subject = UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    assert (await client.patch("/v1/me", headers=headers, json={"content_retention_days": 7})).status_code == 200
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    generation = make_generation(subject, at=clock.now(), status=GenerationStatus.SUCCEEDED)
    async with container.infra.uow() as uow:
        await uow.generations.add(generation)
        await uow.commit()
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    await container.privacy.retention.run()
    async with container.infra.uow() as uow:
        assert await uow.generations.get(generation.id) is not None
    clock.advance(timedelta(seconds=2))
    applied = {r.task: r.applied for r in await container.privacy.retention.run()}
    assert applied["generations.owner_retention"] == 1
    async with container.infra.uow() as uow:
        assert await uow.generations.get(generation.id) is None


async def test_expiry_removes_what_a_deletion_removes_and_has_the_provider_forget_its_copy(
    client: AsyncTestClient, container: Container
) -> None:
    """The sweep takes the path of ``DELETE /v1/generations/{id}``: the row, the output objects, the reference image
    nothing else uses, and the provider's copy (its outcome audited), for a generation that really ran."""
    headers = await signed_in(client, "expires@example.com")
    subject = UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    assert (await client.patch("/v1/me", headers=headers, json={"content_retention_days": 7})).status_code == 200
    reference = (await upload(client, headers, png_bytes(), "ref.png")).json()["id"]
    submitted = await client.post(
        "/v1/generations",
        json={"kind": "image", "prompt": "a lighthouse at dusk", "reference_upload_ids": [reference]},
        headers=headers,
    )
    assert submitted.status_code == 202, submitted.text
    generation = submitted.json()["id"]
    await settle(container)
    store = store_of(container)
    assert (await client.get(f"/v1/generations/{generation}", headers=headers)).json()["status"] == "succeeded"
    assert any(k.startswith("outputs/") and generation in k for k in store.objects)
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(days=7, seconds=1))
    applied = {r.task: r.applied for r in await container.privacy.retention.run()}
    assert applied["generations.owner_retention"] == 1
    assert [k for k in store.objects if generation in k or k.startswith(f"uploads/{subject}")] == []
    async with container.infra.uow() as uow:
        assert await uow.generations.get(UUID(generation)) is None
        assert await uow.uploads.get(UUID(reference)) is None
        events = await uow.audit.list_for_subject(subject)
    audited = [(e.action, e.reason) for e in events]
    assert ("generation_expired", "the subject's content-retention setting") in audited
    assert [a for a in audited if a[0] == "provider_deletion"] == [("provider_deletion", "deleted")]


async def test_the_sweep_deletes_uploads_no_generation_uses_after_the_chosen_days(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "unused@example.com")
    assert (await client.patch("/v1/me", headers=headers, json={"content_retention_days": 7})).status_code == 200
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    created = await client.post("/v1/uploads", files={"file": ("ref.png", png_bytes(), "image/png")}, headers=headers)
    assert created.status_code == 201, created.text
    upload_id = UUID(created.json()["id"])
    async with container.infra.uow() as uow:
        stored = await uow.uploads.get(upload_id)
    assert stored is not None and await container.infra.object_store.exists(stored.object_key)
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    await container.privacy.retention.run()
    assert await container.infra.object_store.exists(stored.object_key)
    clock.advance(timedelta(seconds=2))
    applied = {r.task: r.applied for r in await container.privacy.retention.run()}
    assert applied["uploads.owner_retention"] == 1
    async with container.infra.uow() as uow:
        assert await uow.uploads.get(upload_id) is None
    assert not await container.infra.object_store.exists(stored.object_key)


async def test_the_policy_endpoint_publishes_the_schedule(client: AsyncTestClient, container: Container) -> None:
    body = (await client.get("/v1/privacy/policy")).json()
    schedule = {e["key"]: e for e in body["retention_schedule"]}
    assert list(schedule) == [e.key for e in declared_data_map().schedule]
    assert schedule["analytics_events"]["period"] == {"kind": "days", "days": 180, "starts": "the day of the event"}
    assert schedule["export_archives"]["object_prefix"] == "exports/"
    assert schedule["prompts_and_outputs"]["period"]["kind"] == "account_setting"
    assert schedule["ip_addresses_and_user_agents"]["period"]["kind"] == "never_stored"
    registered = {t.name for t in container.privacy.retention.tasks}
    assert {t for e in schedule.values() for t in e["enforced_by"]} == registered
