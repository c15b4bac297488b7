"""Download links are read back without being trusted: only our own store's signed links name an object (the local
store's signature checked, expiry ignored), for the local, S3 and in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.object_store import LocalObjectStore
from dreamina.adapters.output_links import StoreOutputLinks
from dreamina.adapters.s3_object_store import S3ObjectStore

KEY = "outputs/0b6c1a52-8f25-4a43-9d1f-3c4cba1e7a10/5d0e0d8c-5f0c-4f1c-8b59-8f2f07d43a11/0.png"


async def test_the_local_stores_links_are_checked_and_may_have_expired(tmp_path: Path) -> None:
    clock = MovableClock(datetime(2030, 1, 1, tzinfo=UTC))
    store = LocalObjectStore(tmp_path / "store", b"k" * 32, "http://127.0.0.1:8000/v1/objects", clock)
    links = StoreOutputLinks(store)
    url = await store.signed_url(KEY, 60)
    clock.advance(timedelta(days=30))  # long expired: the reported content is still named
    assert await links.object_key(url) == KEY
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    other = LocalObjectStore(tmp_path / "other", b"x" * 32, "http://127.0.0.1:8000/v1/objects", clock)
    for refused in (
        forged,
        await other.signed_url(KEY, 60),  # same shape, another store's key
        url.replace("127.0.0.1:8000", "evil.example"),
        url.replace("/v1/objects/", "/v1/elsewhere/"),
        url.split("?")[0],
        url + "&expires=1",
        "not a url",
        "http://127.0.0.1:8000/v1/objects/../../etc/passwd?expires=1&signature=00",
    ):
        assert await links.object_key(refused) is None, refused


async def test_s3_and_memory_links_are_read_by_their_shape() -> None:
    s3 = S3ObjectStore("bucket", "http://127.0.0.1:9", "us-east-1", "AKIAEXAMPLE", "secret-example-key")
    links = StoreOutputLinks(s3)
    url = await s3.signed_url(KEY, 60)
    assert await links.object_key(url) == KEY
    assert await links.object_key(url.replace("127.0.0.1:9", "127.0.0.1:10")) is None
    assert await links.object_key(url.split("?")[0]) is None  # no signature fields: not a link we hand out
    memory = InMemoryObjectStore()
    assert await StoreOutputLinks(memory).object_key(await memory.signed_url(KEY, 60)) == KEY
    assert await StoreOutputLinks(memory).object_key("https://elsewhere.example/" + KEY) is None
