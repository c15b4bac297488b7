"""One contract for every ObjectStore: the in-memory fake, the local filesystem, and S3 (real moto server)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.object_store import LocalObjectStore
from dreamina.adapters.s3_object_store import S3ObjectStore
from dreamina.ports.object_store import ObjectNotFound, ObjectStore

from .s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoS3Server, running_moto_server

MiB = 1024 * 1024
SIGNING_KEY = b"k" * 32
LOCAL_BASE_URL = "http://127.0.0.1:8000/files"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

BAD_KEYS = [
    "",
    "/absolute",
    "a//b",
    "trailing/",
    "../escape",
    "a/../b",
    "a/./b",
    "nul\x00byte",
    "new\nline",
    "back\\slash",
    "x" * 1025,
]


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3Server]:
    with running_moto_server() as server:
        yield server


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    if request.param == "memory":
        return InMemoryObjectStore()
    if request.param == "local":
        return LocalObjectStore(tmp_path / "store", SIGNING_KEY, LOCAL_BASE_URL)
    for name in PROXY_VARIABLES:  # the S3 client must talk to 127.0.0.1 directly, never through a proxy
        monkeypatch.delenv(name, raising=False)
    server: MotoS3Server = request.getfixturevalue("moto_s3")
    return S3ObjectStore(server.create_bucket(), server.endpoint_url, REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY)


async def chunked(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def collect(store: ObjectStore, key: str, chunk_size: int) -> list[bytes]:
    return [chunk async for chunk in await store.stream(key, chunk_size=chunk_size)]


async def test_put_then_get_returns_the_bytes(store: ObjectStore) -> None:
    data = bytes(range(256)) * 10
    await store.put("subjects/1/uploads/a b.png", data, "image/png")
    assert await store.get("subjects/1/uploads/a b.png") == data
    assert await store.exists("subjects/1/uploads/a b.png")


async def test_put_replaces_an_existing_object(store: ObjectStore) -> None:
    await store.put("k/v", b"first", "text/plain")
    await store.put("k/v", b"second", "text/plain")
    assert await store.get("k/v") == b"second"
    assert await store.list("k") == ["k/v"]


async def test_stream_yields_non_empty_chunks_that_concatenate_to_the_object(store: ObjectStore) -> None:
    data = os.urandom(10_000)
    await store.put("media/video.mp4", data, "video/mp4")
    chunks = await collect(store, "media/video.mp4", chunk_size=1000)
    assert all(chunks)
    assert b"".join(chunks) == data


async def test_empty_objects_round_trip(store: ObjectStore) -> None:
    await store.put("empty/put", b"", "application/octet-stream")
    assert await store.put_stream("empty/stream", chunked(), "application/octet-stream") == 0
    for key in ("empty/put", "empty/stream"):
        assert await store.get(key) == b""
        assert b"".join(await collect(store, key, chunk_size=10)) == b""


async def test_put_stream_of_small_chunks_round_trips(store: ObjectStore) -> None:
    written = await store.put_stream("exports/1.zip", chunked(b"ab", b"", b"cde", b"f"), "application/zip")
    assert written == 6
    assert await store.get("exports/1.zip") == b"abcdef"


async def test_put_stream_of_12_mib_in_1_mib_chunks_reads_back_identical(store: ObjectStore) -> None:
    block = os.urandom(MiB)
    # each chunk differs, so a part written twice or out of order cannot go unnoticed
    chunks = [bytes([index]) + block[1:] for index in range(12)]
    expected = hashlib.sha256(b"".join(chunks)).hexdigest()

    written = await store.put_stream("exports/big.bin", chunked(*chunks), "application/octet-stream")

    assert written == 12 * MiB
    assert hashlib.sha256(await store.get("exports/big.bin")).hexdigest() == expected
    streamed = hashlib.sha256()
    for chunk in await collect(store, "exports/big.bin", chunk_size=MiB):
        streamed.update(chunk)
    assert streamed.hexdigest() == expected


async def test_a_failing_stream_stores_nothing_and_keeps_the_previous_object(store: ObjectStore) -> None:
    await store.put("exports/keep.bin", b"previous", "application/octet-stream")

    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(9 * MiB)  # past one S3 part, so a multipart upload is under way when it breaks
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError, match="source failed"):
        await store.put_stream("exports/keep.bin", broken(), "application/octet-stream")
    with pytest.raises(RuntimeError, match="source failed"):
        await store.put_stream("exports/new.bin", broken(), "application/octet-stream")

    assert await store.get("exports/keep.bin") == b"previous"
    assert not await store.exists("exports/new.bin")
    assert await store.list("exports") == ["exports/keep.bin"]


async def test_delete_reports_whether_an_object_was_there(store: ObjectStore) -> None:
    await store.put("a/b", b"x", "text/plain")
    assert await store.delete("a/b") is True
    assert await store.delete("a/b") is False
    assert not await store.exists("a/b")
    assert await store.list("") == []


async def test_delete_prefix_removes_whole_segments_only(store: ObjectStore) -> None:
    for key in ("subjects/12/a.png", "subjects/12/deep/b.png", "subjects/123/a.png", "subjects/1/a.png"):
        await store.put(key, b"x", "image/png")

    assert await store.delete_prefix("subjects/12") == 2

    assert await store.list("subjects") == ["subjects/1/a.png", "subjects/123/a.png"]
    assert await store.delete_prefix("subjects/123/") == 1
    assert await store.delete_prefix("subjects/nobody") == 0
    assert await store.list("") == ["subjects/1/a.png"]


async def test_delete_prefix_refuses_an_empty_prefix(store: ObjectStore) -> None:
    await store.put("a/b", b"x", "text/plain")
    for prefix in ("", "/"):
        with pytest.raises(ValueError):
            await store.delete_prefix(prefix)
    assert await store.exists("a/b")


async def test_list_is_sorted_and_segment_based(store: ObjectStore) -> None:
    for key in ("b/2", "a/x/1", "a/1", "ab/1", "a/x/0"):
        await store.put(key, b"x", "text/plain")

    assert await store.list("a") == ["a/1", "a/x/0", "a/x/1"]
    assert await store.list("a/") == ["a/1", "a/x/0", "a/x/1"]
    assert await store.list("a/x") == ["a/x/0", "a/x/1"]
    assert await store.list("") == ["a/1", "a/x/0", "a/x/1", "ab/1", "b/2"]
    assert await store.list("nothing/here") == []
    assert await store.list("a/1") == []  # an object is not a prefix of itself


async def test_missing_objects_raise_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound) as raised:
        await store.get("missing/key")
    assert raised.value.key == "missing/key"
    assert isinstance(raised.value, LookupError)
    with pytest.raises(ObjectNotFound):
        await store.stream("missing/key")  # awaiting the stream fails before any data
    assert await store.exists("missing/key") is False


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
async def test_bad_keys_are_rejected_everywhere(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        await store.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        await store.put_stream(key, chunked(b"x"), "text/plain")
    with pytest.raises(ValueError):
        await store.get(key)
    with pytest.raises(ValueError):
        await store.stream(key)
    with pytest.raises(ValueError):
        await store.delete(key)
    with pytest.raises(ValueError):
        await store.exists(key)
    with pytest.raises(ValueError):
        await store.signed_url(key, 60)
    assert await store.list("") == []


@pytest.mark.parametrize("prefix", ["/a", "../a", "a//b", "a/../b", "a\x00"], ids=repr)
async def test_bad_prefixes_are_rejected(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(ValueError):
        await store.list(prefix)
    with pytest.raises(ValueError):
        await store.delete_prefix(prefix)


@pytest.mark.parametrize("content_type", ["", "text/plain\r\nX-Injected: 1", "plain", "bild/\u00e4"], ids=repr)
async def test_bad_content_types_are_rejected(store: ObjectStore, content_type: str) -> None:
    with pytest.raises(ValueError):
        await store.put("a/b", b"x", content_type)
    with pytest.raises(ValueError):
        await store.put_stream("a/b", chunked(b"x"), content_type)
    assert not await store.exists("a/b")


async def test_signed_urls_name_the_key_and_bound_their_lifetime(store: ObjectStore) -> None:
    await store.put("media/1.png", b"png", "image/png")
    url = await store.signed_url("media/1.png", 300)
    assert isinstance(url, str)
    assert "media/1.png" in unquote(url)
    for lifetime in (0, -1, 7 * 24 * 3600 + 1):
        with pytest.raises(ValueError):
            await store.signed_url("media/1.png", lifetime)


# --- what "fetchable" means differs per adapter ---------------------------------------------------------


@pytest.fixture
def s3_store(moto_s3: MotoS3Server, monkeypatch: pytest.MonkeyPatch) -> S3ObjectStore:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return S3ObjectStore(moto_s3.create_bucket(), moto_s3.endpoint_url, REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY)


async def test_s3_presigned_url_serves_the_object_without_credentials(s3_store: S3ObjectStore) -> None:
    await s3_store.put("media/a picture.png", b"\x89PNG data", "image/png")
    url = await s3_store.signed_url("media/a picture.png", 60)
    assert urlsplit(url).hostname == "127.0.0.1"

    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(url)
        unsigned = await client.get(url.split("?", 1)[0])

    assert response.status_code == 200
    assert response.content == b"\x89PNG data"
    assert response.headers["content-type"] == "image/png"
    assert unsigned.status_code == 403


async def test_s3_put_stream_uses_multipart_parts(s3_store: S3ObjectStore, moto_s3: MotoS3Server) -> None:
    chunks = [os.urandom(MiB) for _ in range(12)]
    await s3_store.put_stream("exports/multi.bin", chunked(*chunks), "application/zip")

    head = moto_s3.client().head_object(Bucket=s3_store.bucket, Key="exports/multi.bin")
    assert head["ETag"].strip('"').endswith("-2")  # 12 MiB in 8 MiB parts
    assert head["ContentType"] == "application/zip"
    assert head["ContentLength"] == 12 * MiB


async def test_s3_failing_stream_aborts_its_multipart_upload(s3_store: S3ObjectStore, moto_s3: MotoS3Server) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(9 * MiB)
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        await s3_store.put_stream("exports/broken.bin", broken(), "application/zip")

    uploads = moto_s3.client().list_multipart_uploads(Bucket=s3_store.bucket)
    assert uploads.get("Uploads", []) == []  # no hidden parts left to pay for


def _parse_local_url(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    assert url.startswith(LOCAL_BASE_URL + "/")
    key = unquote(parts.path.removeprefix(urlsplit(LOCAL_BASE_URL).path + "/"))
    query = parse_qs(parts.query)
    return key, int(query["expires"][0]), query["signature"][0]


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def test_local_signed_url_verifies_until_it_expires(tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    store = LocalObjectStore(tmp_path, SIGNING_KEY, LOCAL_BASE_URL, clock=FixedClock(now))
    await store.put("media/a picture.png", b"png", "image/png")

    key, expires, signature = _parse_local_url(await store.signed_url("media/a picture.png", 60))

    assert key == "media/a picture.png"
    assert expires == int(now.timestamp()) + 60
    assert store.verify_signed(key, expires, signature, now)
    assert store.verify_signed(key, expires, signature, now + timedelta(seconds=59))
    assert not store.verify_signed(key, expires, signature, now + timedelta(seconds=60))
    assert not store.verify_signed(key, expires + 3600, signature, now)
    assert not store.verify_signed("media/other.png", expires, signature, now)
    tampered = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert not store.verify_signed(key, expires, tampered, now)
    assert not store.verify_signed("../etc/passwd", expires, signature, now)
    other_key = LocalObjectStore(tmp_path / "other", b"o" * 32, LOCAL_BASE_URL)
    assert not other_key.verify_signed(key, expires, signature, now)
    assert await store.content_type(key) == "image/png"


async def test_local_store_keeps_objects_private_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, SIGNING_KEY, LOCAL_BASE_URL)
    await store.put("subjects/1/a.png", b"x", "image/png")
    await store.put_stream("subjects/1/b.bin", chunked(b"y"), "application/octet-stream")

    for path in (tmp_path / "objects" / "subjects/1/a.png", tmp_path / "objects" / "subjects/1/b.bin"):
        assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "objects").stat().st_mode & 0o777 == 0o700
    assert list((tmp_path / "tmp").iterdir()) == []

    assert await store.delete_prefix("subjects/1") == 2
    assert list((tmp_path / "objects").iterdir()) == []  # emptied directories are pruned


async def test_local_store_rejects_a_key_that_is_also_a_prefix(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, SIGNING_KEY, LOCAL_BASE_URL)
    await store.put("a/b", b"x", "text/plain")
    with pytest.raises(ValueError):
        await store.put("a", b"y", "text/plain")
    with pytest.raises(ValueError):
        await store.put("a/b/c", b"y", "text/plain")
    assert await store.list("") == ["a/b"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_local_store_refuses_a_short_signing_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalObjectStore(tmp_path, b"short", LOCAL_BASE_URL)


def test_s3_store_wants_both_credentials_or_neither() -> None:
    with pytest.raises(ValueError):
        S3ObjectStore("bucket", "http://127.0.0.1:1", REGION, ACCESS_KEY_ID, None)


async def test_in_memory_store_records_signed_urls() -> None:
    store = InMemoryObjectStore()
    await store.put("a/b", b"x", "text/plain")
    await store.signed_url("a/b", 60)
    assert store.signed_urls == [("a/b", 60)]
    assert store.content_type("a/b") == "text/plain"
