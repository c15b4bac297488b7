"""G4 at every outbound port: once a subject restricts processing, nothing of theirs is processed or disclosed —
no generation reaches a provider, no analytics event is stored, no checkout hands their email to the processor —
and their own reads still work. Lifting the restriction is a request too."""

from __future__ import annotations

import uuid

from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .consent_helpers import PAGE_VIEW
from .data_rights_helpers import submit
from .helpers import signed_in
from .test_generation_api import png_bytes


async def test_a_restriction_stops_every_outbound_path_until_it_is_lifted(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "restricted@example.com")
    consent = await client.put(
        "/v1/consent", headers=headers, json={"functional": True, "analytics": True, "marketing": False}
    )
    assert consent.status_code == 200
    before = (await client.post("/v1/analytics/events", headers=headers, json=PAGE_VIEW)).json()
    assert before["recorded"] == 2

    await submit(client, headers, "restriction", {"action": "restrict", "reason": "I contest the data's accuracy"})

    generation = await client.post("/v1/generations", headers=headers, json={"kind": "image", "prompt": "a fox"})
    assert generation.status_code == 403 and generation.json()["code"] == "processing_restricted"
    analytics = (await client.post("/v1/analytics/events", headers=headers, json=PAGE_VIEW)).json()
    assert analytics == {"recorded": 0, "dropped": 2, "reason": "processing_restricted"}
    checkout = await client.post("/v1/billing/checkout", headers=headers, json={"pack_id": "starter"})
    assert checkout.status_code == 403 and checkout.json()["code"] == "processing_restricted"
    # an upload is processing too (decoded, re-encoded, stored): issue 16 found it still answered 201
    files = {"file": ("a.png", png_bytes(), "image/png")}
    upload = await client.post("/v1/uploads", headers=headers, files=files)
    assert upload.status_code == 403 and upload.json()["code"] == "processing_restricted", upload.text
    assert await stored_objects(container) == 0
    async with container.infra.uow() as uow:
        me = (await client.get("/v1/me", headers=headers)).json()
        assert [d.processor for d in await uow.disclosures.list_for_subject(uuid.UUID(me["id"]))] == []
    # the subject's own reads go on
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    assert (await client.get("/v1/generations", headers=headers)).status_code == 200
    assert (await client.get("/v1/billing/balance", headers=headers)).status_code == 200

    await submit(client, headers, "restriction", {"action": "lift"})
    assert (await client.post("/v1/analytics/events", headers=headers, json=PAGE_VIEW)).json()["recorded"] == 2
    lifted = await client.post("/v1/generations", headers=headers, json={"kind": "image", "prompt": "a fox"})
    assert lifted.status_code == 202, lifted.text
    assert (await client.post("/v1/uploads", headers=headers, files=files)).status_code == 201


async def stored_objects(container: Container) -> int:
    return len(await container.infra.object_store.list("uploads/"))
