"""ObjectStore contract, continued: batch deletes beyond one S3 request (1000 keys), and the 15-minute default
lifetime of signed URLs. Runs on memory, the local filesystem and S3 (moto on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.object_store import LocalObjectStore
from dreamina.adapters.s3_object_store import S3ObjectStore
from dreamina.ports.object_store import DEFAULT_SIGNED_URL_SECONDS, ObjectStore
from tests.contract.test_object_store_contract import moto_s3, store  # noqa: F401


async def put_many(target: ObjectStore, keys: list[str]) -> None:
    gate = asyncio.Semaphore(64)

    async def put(key: str) -> None:
        async with gate:
            await target.put(key, key.encode(), "text/plain")

    await asyncio.gather(*(put(k) for k in keys))


async def test_delete_many_removes_more_than_one_batch_of_1000(store: ObjectStore) -> None:  # noqa: F811
    doomed = [f"outputs/s/{i:05d}" for i in range(1001)]
    kept = ["outputs/t/keep", "outputs/s0/keep"]
    await put_many(store, [*doomed, *kept])
    await store.delete_many([*doomed, "outputs/s/never-existed"])
    assert await store.list("outputs") == sorted(kept)


async def test_delete_prefix_of_more_than_1000_keys(store: ObjectStore) -> None:  # noqa: F811
    await put_many(store, [f"uploads/u/{i:05d}.png" for i in range(1001)])
    assert await store.delete_prefix("uploads/u") == 1001
    assert await store.list("uploads") == []


async def test_delete_many_validates_every_key_before_removing_any(store: ObjectStore) -> None:  # noqa: F811
    await store.put("a/b", b"x", "text/plain")
    with pytest.raises(ValueError):
        await store.delete_many(["a/b", "../escape"])
    assert await store.exists("a/b")


async def test_signed_urls_last_15_minutes_by_default(store: ObjectStore) -> None:  # noqa: F811
    await store.put("media/1.png", b"x", "image/png")
    before = int(datetime.now(UTC).timestamp())
    url = await store.signed_url("media/1.png")
    query = parse_qs(urlsplit(url).query)
    if isinstance(store, InMemoryObjectStore):
        assert store.signed_urls[-1] == ("media/1.png", DEFAULT_SIGNED_URL_SECONDS)
    elif isinstance(store, LocalObjectStore):
        assert before + 900 <= int(query["expires"][0]) <= before + 902
    else:
        assert isinstance(store, S3ObjectStore)
        assert query["X-Amz-Expires"] == ["900"]
    assert DEFAULT_SIGNED_URL_SECONDS == 900
