"""Issue 16, finding 9: uploads could not be listed or deleted on their own. Now ``GET /v1/uploads`` pages them
newest first, ``GET /v1/uploads/{id}`` gives one with a short-lived link to the stored (metadata-free) image, and
``DELETE /v1/uploads/{id}`` removes row and image, audited; one a generation uses answers 409 ``upload_in_use``
(deleting that generation deletes it with it). Another subject's upload is a 404 everywhere. Every backend."""

from __future__ import annotations

import uuid
from datetime import timedelta

from dreamina.adapters.clock import MovableClock
from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .helpers import signed_in
from .test_generation_api import png_bytes, store_of, upload


async def test_list_view_and_delete_ones_own_uploads(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "uploader@example.com")
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    ids = []
    for size in (8, 9, 10):
        created = await upload(client, headers, png_bytes((size, size)), "a.png")
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
        clock.advance(timedelta(seconds=1))

    first = await client.get("/v1/uploads", params={"limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [u["id"] for u in page["items"]] == [ids[2], ids[1]] and page["next_cursor"]
    rest = (await client.get("/v1/uploads", params={"cursor": page["next_cursor"]}, headers=headers)).json()
    assert [u["id"] for u in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    bad = await client.get("/v1/uploads", params={"cursor": "not-one-of-ours"}, headers=headers)
    assert bad.status_code in {400, 422} and bad.headers["content-type"].startswith("application/problem+json")

    one = (await client.get(f"/v1/uploads/{ids[0]}", headers=headers)).json()
    assert (one["width"], one["height"], one["content_type"]) == (8, 8, "image/png")
    signed_key, ttl = store_of(container).signed_urls[-1]  # the link is to the stored image, short-lived
    assert ids[0] in signed_key and signed_key.startswith("uploads/") and ttl == 900 and one["url"]
    assert store_of(container).objects[signed_key].data.startswith(b"\x89PNG")

    stranger = await signed_in(client, "stranger@example.com")
    for answer in (
        await client.get(f"/v1/uploads/{ids[0]}", headers=stranger),
        await client.delete(f"/v1/uploads/{ids[0]}", headers=stranger),
        await client.get(f"/v1/uploads/{uuid.uuid4()}", headers=headers),
    ):
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert (await client.get("/v1/uploads", headers=stranger)).json() == {"items": [], "next_cursor": None}

    # one a generation uses is refused, and goes with the generation
    body = {"kind": "image", "prompt": "a lighthouse", "reference_upload_ids": [ids[1]]}
    generation = await client.post("/v1/generations", json=body, headers=headers)
    assert generation.status_code == 202, generation.text
    in_use = await client.delete(f"/v1/uploads/{ids[1]}", headers=headers)
    assert in_use.status_code == 409 and in_use.json()["code"] == "upload_in_use", in_use.text
    assert (await client.delete(f"/v1/generations/{generation.json()['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/v1/uploads/{ids[1]}", headers=headers)).status_code == 404

    key_of_first = next(k for k in store_of(container).objects if k.startswith("uploads/") and ids[0] in k)
    deleted = await client.delete(f"/v1/uploads/{ids[0]}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert key_of_first not in store_of(container).objects
    assert (await client.get(f"/v1/uploads/{ids[0]}", headers=headers)).status_code == 404
    assert (await client.delete(f"/v1/uploads/{ids[0]}", headers=headers)).status_code == 404
    left = (await client.get("/v1/uploads", headers=headers)).json()
    assert [u["id"] for u in left["items"]] == [ids[2]]

    subject = uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    async with container.infra.uow() as uow:
        events = [e for e in await uow.audit.list_for_subject(subject) if e.action == "upload_deleted"]
    assert [(e.fields, e.actor_kind.value) for e in events] == [(("image",), "subject")]
