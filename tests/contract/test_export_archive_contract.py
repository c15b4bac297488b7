"""The ZIP export archive over every object store (memory, local files, S3 via moto with multipart uploads)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters.export_zip import ArchiveAborted, ZipExportArchive
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.object_store import LocalObjectStore
from dreamina.adapters.s3_object_store import S3ObjectStore
from dreamina.ports.object_store import ObjectStore

from .s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoS3Server, running_moto_server
from .test_object_store_contract import PROXY_VARIABLES
from .unfinished_uploads import abandon_upload

KEY = "exports/subject/request.zip"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3Server]:
    with running_moto_server() as server:
        yield server


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    if request.param == "memory":
        return InMemoryObjectStore()
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects", url_signing_key=b"k" * 32, base_url="http://127.0.0.1/")
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    server: MotoS3Server = request.getfixturevalue("moto_s3")
    return S3ObjectStore(
        server.create_bucket(), server.endpoint_url, REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY, part_size=5 * 1024**2
    )


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_archive_holds_every_member_and_a_readme(store: ObjectStore) -> None:
    big = os.urandom(11 * 1024 * 1024 + 7)  # more than two S3 parts

    async def records() -> AsyncIterator[dict[str, Any]]:
        for i in range(3):
            yield {"n": i, "text": "café ✓"}

    async def fill(sink: Any) -> None:
        await sink.write_records("account", "your account", [{"email": "a@example.com"}])
        await sink.write_records("generations", "your generations", records())
        await sink.write_records("empty", "nothing here", [])
        await sink.write_file("uploads/big.bin", "a large upload", _chunks(big, 300_000))

    size = await ZipExportArchive(store).build(KEY, "Read me\n", fill)
    data = await store.get(KEY)
    assert size == len(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert json.loads(archive.read("account.json")) == [{"email": "a@example.com"}]
    assert [r["n"] for r in json.loads(archive.read("generations.json"))] == [0, 1, 2]
    assert json.loads(archive.read("generations.json"))[0]["text"] == "café ✓"
    assert json.loads(archive.read("empty.json")) == []
    assert archive.read("files/uploads/big.bin") == big
    readme = archive.read("README.txt").decode()
    assert readme.startswith("Read me\n")
    for line in ("account.json: your account", "files/uploads/big.bin: a large upload", "empty.json: nothing here"):
        assert line in readme


async def test_a_failing_holder_stores_no_archive(store: ObjectStore) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield os.urandom(6 * 1024 * 1024)
        raise OSError("source vanished")

    async def fill(sink: Any) -> None:
        await sink.write_records("account", "your account", [{"x": 1}])
        await sink.write_file("uploads/a.bin", "upload", failing())

    with pytest.raises((OSError, ArchiveAborted)):
        await ZipExportArchive(store).build(KEY, "Read me\n", fill)
    assert not await store.exists(KEY)

    async def fill_then_fail(sink: Any) -> None:
        await sink.write_records("account", "your account", [{"x": 1}])
        raise RuntimeError("holder broke")

    with pytest.raises((RuntimeError, ArchiveAborted)):
        await ZipExportArchive(store).build(KEY, "Read me\n", fill_then_fail)
    assert not await store.exists(KEY)


async def test_two_members_with_one_name_are_refused(store: ObjectStore) -> None:
    async def fill(sink: Any) -> None:
        await sink.write_records("account", "one", [])
        await sink.write_records("account", "two", [])

    with pytest.raises((ValueError, ArchiveAborted)):
        await ZipExportArchive(store).build(KEY, "Read me\n", fill)
    assert not await store.exists(KEY)


async def test_a_started_export_first_aborts_what_a_killed_attempt_left_under_its_key(
    store: ObjectStore, request: pytest.FixtureRequest
) -> None:
    moto = request.getfixturevalue("moto_s3") if isinstance(store, S3ObjectStore) else None
    abandon_upload(store, KEY, moto)  # the worker that built this archive before was killed mid-upload
    abandon_upload(store, "exports/subject/another-request.zip", moto)

    async def fill(sink: Any) -> None:
        await sink.write_records("account", "your account", [{"x": 1}])

    await ZipExportArchive(store).build(KEY, "Read me\n", fill)

    assert await store.list_incomplete("exports") == ["exports/subject/another-request.zip"]  # not its to abort
    assert json.loads(zipfile.ZipFile(io.BytesIO(await store.get(KEY))).read("account.json")) == [{"x": 1}]
