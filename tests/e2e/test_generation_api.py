"""The generation API end to end: uploads, submissions, polling, outputs, cancel, delete, privacy at the port."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import av
import pytest
from PIL import Image

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.bootstrap import Container
from tests.e2e.helpers import signed_in
from tests.http_client import AsyncTestClient


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0110] = "Model 7"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 36.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret comment")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the fixture really carries GPS
    return data


def png_bytes(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 10, 255)).save(out, "PNG")
    return out.getvalue()


async def upload(client: AsyncTestClient, headers: dict[str, str], data: bytes, name: str = "photo.jpg") -> Any:
    return await client.post("/v1/uploads", files={"file": (name, data, "image/jpeg")}, headers=headers)


def store_of(container: Container) -> InMemoryObjectStore:
    assert isinstance(container.infra.object_store, InMemoryObjectStore)
    return container.infra.object_store


async def settle(container: Container) -> None:
    assert isinstance(container.generation.queue, ManualJobQueue) and container.generation.generations is not None
    await container.generation.queue.drain(container.generation.runner.run)


async def test_an_uploaded_jpeg_with_gps_is_stored_without_any_exif(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "gps@example.com")
    response = await upload(client, headers, jpeg_with_gps())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/jpeg" and (body["width"], body["height"]) == (64, 48)
    store = store_of(container)
    [key] = [k for k in store.objects if k.startswith("uploads/")]
    stored = await store.get(key)
    assert len(stored) == body["bytes"]
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "icc_profile" not in image.info and "comment" not in image.info
    assert b"Exif" not in stored and b"SpyCam" not in stored and b"secret comment" not in stored


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (b"%PDF-1.4 definitely not an image", 415, "unsupported_image"),
        (b"", 415, "unsupported_image"),
        ("truncated", 415, "unsupported_image"),
        ("polyglot", 415, "unsupported_image"),
        ("gif", 415, "unsupported_image"),
        ("huge", 413, "image_too_large"),
    ],
)
async def test_bad_uploads_are_refused_and_leave_nothing(
    client: AsyncTestClient, container: Container, stored_rows: Any, payload: Any, status: int, code: str
) -> None:
    headers = await signed_in(client, "bad@example.com")
    if payload == "truncated":
        payload = jpeg_with_gps()[:-200]
    elif payload == "polyglot":
        payload = png_bytes() + b"PK\x03\x04" + b"\x00" * 40  # a PNG with a ZIP archive appended
    elif payload == "gif":
        out = io.BytesIO()
        Image.new("P", (8, 8)).save(out, "GIF")
        payload = out.getvalue()
    elif payload == "huge":
        payload = png_bytes((8000, 6000))  # 48 megapixels of one colour: a few kB on disk
    before = await stored_rows()
    response = await upload(client, headers, payload)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert [k for k in store_of(container).objects if k.startswith("uploads/")] == []
    assert await stored_rows() == before


async def test_image_and_video_generations_run_to_real_outputs(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "maker@example.com")
    reference = (await upload(client, headers, jpeg_with_gps())).json()["id"]
    image = await client.post(
        "/v1/generations",
        json={
            "kind": "image",
            "prompt": "a lighthouse at dusk",
            "reference_upload_ids": [reference],
            "params": {"count": 2, "aspect_ratio": "16:9", "seed": 7},
        },
        headers=headers,
    )
    assert image.status_code == 202, image.text
    assert image.json()["status"] == "queued"
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(seconds=1))
    video = await client.post(
        "/v1/generations",
        json={"kind": "video", "prompt": "waves", "params": {"duration_seconds": 2}},
        headers=headers,
    )
    assert video.status_code == 202, video.text
    await settle(container)

    got = (await client.get(f"/v1/generations/{image.json()['id']}", headers=headers)).json()
    assert got["status"] == "succeeded" and got["prompt"] == "a lighthouse at dusk"
    assert len(got["outputs"]) == 2
    store = store_of(container)
    for output in got["outputs"]:
        assert output["content_type"] == "image/png"
        key = output["url"].split("memory://objects/", 1)[1].split("?")[0]
        assert Image.open(io.BytesIO(await store.get(key))).size == (640, 360)
    assert all(ttl == 900 for _, ttl in store.signed_urls)

    got_video = (await client.get(f"/v1/generations/{video.json()['id']}", headers=headers)).json()
    assert got_video["status"] == "succeeded"
    [clip] = got_video["outputs"]
    key = clip["url"].split("memory://objects/", 1)[1].split("?")[0]
    with av.open(io.BytesIO(await store.get(key))) as container_file:
        assert container_file.streams.video[0].frames == 24

    listing = (await client.get("/v1/generations?limit=1", headers=headers)).json()
    assert [i["id"] for i in listing["items"]] == [video.json()["id"]]  # newest first
    rest = (await client.get(f"/v1/generations?limit=1&cursor={listing['next_cursor']}", headers=headers)).json()
    assert [i["id"] for i in rest["items"]] == [image.json()["id"]] and rest["next_cursor"] is None


async def test_prompts_are_sealed_at_rest(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "sealed@example.com")
    submitted = await client.post(
        "/v1/generations", json={"kind": "image", "prompt": "my secret idea"}, headers=headers
    )
    async with container.infra.uow() as uow:
        generation = await uow.generations.get(uuid.UUID(submitted.json()["id"]))
    assert generation is not None and b"my secret idea" not in generation.prompt_ciphertext


async def test_another_subjects_generations_and_uploads_are_not_found(
    client: AsyncTestClient, container: Container
) -> None:
    alice = await signed_in(client, "alice@example.com")
    bob = await signed_in(client, "bob@example.com")
    reference = (await upload(client, alice, jpeg_with_gps())).json()["id"]
    mine = (await client.post("/v1/generations", json={"kind": "image", "prompt": "x"}, headers=alice)).json()["id"]
    await settle(container)
    assert (await client.get(f"/v1/generations/{mine}", headers=bob)).status_code == 404
    assert (await client.delete(f"/v1/generations/{mine}", headers=bob)).status_code == 404
    assert (await client.post(f"/v1/generations/{mine}/cancel", headers=bob)).status_code == 404
    assert (await client.get("/v1/generations", headers=bob)).json()["items"] == []
    stolen = await client.post(
        "/v1/generations", json={"kind": "image", "prompt": "x", "reference_upload_ids": [reference]}, headers=bob
    )
    assert stolen.status_code == 404
    assert (await client.get(f"/v1/generations/{mine}", headers=alice)).status_code == 200


async def test_a_restricted_subject_is_refused_and_nothing_is_sent(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "restricted@example.com")
    me = (await client.get("/v1/me", headers=headers)).json()["id"]
    async with container.infra.uow() as uow:
        await uow.restrictions.restrict(uuid.UUID(me), "art. 18", container.infra.clock.now())
        await uow.commit()
    response = await client.post("/v1/generations", json={"kind": "image", "prompt": "x"}, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "processing_restricted"
    assert (await client.get("/v1/generations", headers=headers)).json()["items"] == []


async def test_delete_removes_prompt_outputs_and_unshared_references(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "deleter@example.com")
    shared = (await upload(client, headers, jpeg_with_gps())).json()["id"]
    only_here = (await upload(client, headers, png_bytes(), "b.png")).json()["id"]
    first = (
        await client.post(
            "/v1/generations",
            json={"kind": "image", "prompt": "one", "reference_upload_ids": [shared, only_here]},
            headers=headers,
        )
    ).json()["id"]
    second = (
        await client.post(
            "/v1/generations",
            json={"kind": "image", "prompt": "two", "reference_upload_ids": [shared]},
            headers=headers,
        )
    ).json()["id"]
    await settle(container)
    store = store_of(container)
    assert any(k.startswith("outputs/") and first in k for k in store.objects)

    assert (await client.delete(f"/v1/generations/{first}", headers=headers)).status_code == 204
    assert (await client.get(f"/v1/generations/{first}", headers=headers)).status_code == 404
    assert not any(first in k for k in store.objects)
    async with container.infra.uow() as uow:
        assert await uow.generations.get(uuid.UUID(first)) is None
        assert await uow.uploads.get(uuid.UUID(only_here)) is None
        assert await uow.uploads.get(uuid.UUID(shared)) is not None  # still used by the second generation
    assert sum(k.startswith("uploads/") for k in store.objects) == 1
    assert (await client.get(f"/v1/generations/{second}", headers=headers)).json()["status"] == "succeeded"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "sound", "prompt": "x"},
        {"kind": "image", "prompt": ""},
        {"kind": "image", "prompt": "x\x00y"},
        {"kind": "image", "prompt": "x", "params": {"aspect_ratio": "2:1"}},
        {"kind": "image", "prompt": "x", "params": {"count": 9}},
        {"kind": "video", "prompt": "x", "params": {"duration_seconds": 30}},
        {"kind": "image", "prompt": "x", "reference_upload_ids": ["not-a-uuid"]},
    ],
)
async def test_bad_submissions_get_problem_details(client: AsyncTestClient, body: dict[str, Any]) -> None:
    headers = await signed_in(client, "badbody@example.com")
    response = await client.post("/v1/generations", json=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"]


async def test_logs_carry_no_prompt_and_no_object_keys(
    client: AsyncTestClient, container: Container, logs: io.StringIO
) -> None:
    headers = await signed_in(client, "quiet@example.com")
    reference = (await upload(client, headers, jpeg_with_gps())).json()["id"]
    submitted = await client.post(
        "/v1/generations",
        json={"kind": "image", "prompt": "my very private prompt", "reference_upload_ids": [reference]},
        headers=headers,
    )
    await settle(container)
    await client.get(f"/v1/generations/{submitted.json()['id']}", headers=headers)
    written = logs.getvalue()
    assert "generation" in written  # the requests were logged
    assert "my very private prompt" not in written  # not even at DEBUG: only its ciphertext reaches the driver
    above_debug = [line for line in written.splitlines() if '"level": "debug"' not in line]
    assert not any("uploads/" in line or "outputs/" in line for line in above_debug)
