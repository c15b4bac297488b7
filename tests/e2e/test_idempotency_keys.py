"""The Idempotency-Key header on the routes that create something, on memory, SQLite and PostgreSQL: a retry gets the
first answer and costs nothing more, even when it races the first; another request under the key is 422; malformed
keys are 400; answers are kept 24 hours."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.bootstrap import Container, build_container
from dreamina.settings import load_settings
from tests.e2e.billing_helpers import balance
from tests.e2e.conftest import UNTHROTTLED, app_for, test_overrides
from tests.e2e.helpers import signed_in
from tests.http_client import AsyncTestClient

PROBLEM = "application/problem+json"


def png_bytes(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 10)).save(out, "PNG")
    return out.getvalue()


IMAGE = {"kind": "image", "prompt": "a lighthouse in fog", "params": {"count": 2}}


@pytest.fixture
async def ledger_client(uow_factory: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """The API over the real credit ledger (no fake charges), so a second charge would show in the balance; served
    over ASGI on this test's event loop, so requests sent at once really run at once."""
    overrides = test_overrides()
    del overrides["charges"]
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    container = build_container(settings, uow=uow_factory, **overrides)
    await container.start()
    app = app_for(container)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]  # where the test helpers find the container
            yield client
    finally:
        await container.aclose()


async def _generations(client: Any, auth: dict[str, str]) -> list[Any]:
    listed = await client.get("/v1/generations", headers=auth)
    assert listed.status_code == 200
    return list(listed.json()["items"])


async def test_a_retried_generation_gets_the_first_answer_and_is_charged_once(ledger_client: Any) -> None:
    client = ledger_client
    auth = await signed_in(client, "retry@example.com")
    start = await balance(client, auth)
    keyed = {**auth, "Idempotency-Key": "gen-1"}
    first = await client.post("/v1/generations", json=IMAGE, headers=keyed)
    assert first.status_code == 202, first.text
    assert "Idempotent-Replayed" not in first.headers
    # the same request, differently spelled (key order, spacing): the same answer, no second charge
    again = await client.post(
        "/v1/generations",
        content=b'{"params": {"count": 2},  "prompt": "a lighthouse in fog", "kind": "image"}',
        headers={**keyed, "Content-Type": "application/json"},
    )
    assert (again.status_code, again.json()) == (202, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await balance(client, auth) == start - 8
    assert len(await _generations(client, auth)) == 1

    reused = await client.post("/v1/generations", json={**IMAGE, "prompt": "another"}, headers=keyed)
    assert reused.status_code == 422 and reused.headers["content-type"].startswith(PROBLEM)
    assert reused.json()["code"] == "idempotency_key_reused"
    other = await client.post("/v1/generations", json=IMAGE, headers={**auth, "Idempotency-Key": "gen-2"})
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
    unkeyed = await client.post("/v1/generations", json=IMAGE, headers=auth)
    assert unkeyed.status_code == 202
    assert await balance(client, auth) == start - 24
    # keys are the subject's own: another subject's "gen-1" is a new request
    someone = await signed_in(client, "someone@example.com")
    theirs = await client.post("/v1/generations", json=IMAGE, headers={**someone, "Idempotency-Key": "gen-1"})
    assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]


async def test_requests_racing_with_one_key_create_and_charge_once(ledger_client: Any) -> None:
    client = ledger_client
    auth = await signed_in(client, "racer@example.com")
    start = await balance(client, auth)
    keyed = {**auth, "Idempotency-Key": "race-" + uuid.uuid4().hex}
    answers = await asyncio.gather(*(client.post("/v1/generations", json=IMAGE, headers=keyed) for _ in range(5)))
    assert [a.status_code for a in answers] == [202] * 5, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 4
    assert await balance(client, auth) == start - 8
    assert len(await _generations(client, auth)) == 1


async def test_a_retry_after_the_credits_ran_out_still_gets_the_first_answer(ledger_client: Any) -> None:
    client = ledger_client
    auth = await signed_in(client, "spender@example.com")
    everything = {"kind": "image", "prompt": "all of it", "params": {"count": 4}}
    keyed = {**auth, "Idempotency-Key": "all"}
    spent = [await client.post("/v1/generations", json=everything, headers=keyed) for _ in range(2)]
    assert [s.status_code for s in spent] == [202, 202] and spent[0].json() == spent[1].json()
    await client.post("/v1/generations", json=everything, headers=auth)
    assert await balance(client, auth) == 40 - 32
    assert (await client.post("/v1/generations", json=everything, headers=keyed)).status_code == 202  # replayed


async def test_uploads_and_checkouts_with_a_key_are_made_once(client: AsyncTestClient, container: Container) -> None:
    auth = await signed_in(client, "maker@example.com")
    keyed = {**auth, "Idempotency-Key": "upload-1"}
    image = png_bytes()
    uploads = [
        await client.post("/v1/uploads", files={"file": (f"n{i}.png", image, "image/png")}, headers=keyed)
        for i in range(2)
    ]
    assert [u.status_code for u in uploads] == [201, 201] and uploads[0].json() == uploads[1].json()
    store = container.infra.object_store
    assert isinstance(store, InMemoryObjectStore)
    assert len([k for k in store.objects if k.startswith("uploads/")]) == 1
    other = await client.post("/v1/uploads", files={"file": ("x.png", png_bytes((8, 8)), "image/png")}, headers=keyed)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"

    keyed = {**auth, "Idempotency-Key": "checkout-1"}
    checkouts = [await client.post("/v1/billing/checkout", json={"pack_id": "starter"}, headers=keyed) for _ in "ab"]
    assert [c.status_code for c in checkouts] == [201, 201] and checkouts[0].json() == checkouts[1].json()
    assert checkouts[1].headers["Idempotent-Replayed"] == "true"
    # the same key on another route is another request
    upload_key = {**auth, "Idempotency-Key": "upload-1"}
    fresh = await client.post("/v1/billing/checkout", json={"pack_id": "starter"}, headers=upload_key)
    assert fresh.status_code == 201 and fresh.json()["session_id"] != checkouts[0].json()["session_id"]


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "caf\u00e9", "tab\there", "line\x7f"], ids=["empty", "long", "latin1", "tab", "del"]
)
async def test_a_malformed_key_is_400_problem_json(client: AsyncTestClient, key: str) -> None:
    auth = await signed_in(client, "malformed@example.com")
    headers = [*auth.items(), ("Idempotency-Key", key.encode("latin-1"))]
    for answer in (
        await client.post("/v1/generations", json=IMAGE, headers=headers),
        await client.post("/v1/billing/checkout", json={"pack_id": "starter"}, headers=headers),
        await client.post("/v1/uploads", files={"file": ("a.png", png_bytes(), "image/png")}, headers=headers),
    ):
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM)
    assert await _generations(client, auth) == []


async def test_answers_are_kept_24_hours_then_the_key_is_new(client: AsyncTestClient, container: Container) -> None:
    auth = await signed_in(client, "later@example.com")
    keyed = {**auth, "Idempotency-Key": "daily"}
    first = await client.post("/v1/generations", json=IMAGE, headers=keyed)
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(hours=23, minutes=59))
    await container.privacy.retention.run()
    assert (await client.post("/v1/generations", json=IMAGE, headers=keyed)).json() == first.json()
    clock.advance(timedelta(minutes=2))
    reports = {r.task: r for r in await container.privacy.retention.run()}
    assert reports["idempotency_records.expired"].applied == 1
    later = await client.post("/v1/generations", json=IMAGE, headers=keyed)
    assert later.status_code == 202 and later.json()["id"] != first.json()["id"]


def test_the_header_is_declared_for_the_three_operations(client: AsyncTestClient) -> None:
    schema = client.app.openapi_schema.to_schema()
    for path in ("/v1/generations", "/v1/uploads", "/v1/billing/checkout"):
        parameters = schema["paths"][path]["post"]["parameters"]
        header = next(p for p in parameters if p["name"].lower() == "idempotency-key")
        assert header["in"] == "header" and header["required"] is False
        assert header["schema"]["maxLength"] == 255
