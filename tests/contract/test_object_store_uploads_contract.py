"""ObjectStore contract, continued: unfinished uploads (a writer killed mid-``put_stream`` leaves an S3 multipart
upload or a partial file holding personal data that ``list`` never shows) are listed and aborted by key or folder.
Runs on memory, the local filesystem and S3 (moto on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from dreamina.adapters.object_store import LocalObjectStore
from dreamina.adapters.s3_object_store import S3ObjectStore
from dreamina.ports.object_store import ObjectStore
from tests.contract.test_object_store_contract import moto_s3, s3_store, store  # noqa: F401

from .s3_server import MotoS3Server
from .unfinished_uploads import abandon_upload

MiB = 1024 * 1024
Abandon = Callable[[str], None]


@pytest.fixture
def abandon(store: ObjectStore, request: pytest.FixtureRequest) -> Abandon:  # noqa: F811
    """``abandon(key)``: leave an unfinished upload of ``key``, as a killed writer does."""
    moto = request.getfixturevalue("moto_s3") if isinstance(store, S3ObjectStore) else None
    return lambda key: abandon_upload(store, key, moto)


async def wait_until_listed(target: ObjectStore, key: str) -> None:
    for _ in range(400):  # 20 s
        if key in await target.list_incomplete(key):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"the upload of {key} never showed as unfinished")


async def test_unfinished_uploads_are_listed_by_key_at_or_under_a_prefix(
    store: ObjectStore,  # noqa: F811
    abandon: Abandon,
) -> None:
    for key in ("exports/s1/r2.zip", "exports/s1/r1.zip", "exports/s12/r.zip", "uploads/s1/a.png"):
        abandon(key)
    await store.put("exports/s1/done.zip", b"finished", "application/zip")

    assert await store.list_incomplete("exports/s1") == ["exports/s1/r1.zip", "exports/s1/r2.zip"]
    assert await store.list_incomplete("exports/s1/") == ["exports/s1/r1.zip", "exports/s1/r2.zip"]
    assert await store.list_incomplete("exports/s1/r1.zip") == ["exports/s1/r1.zip"]  # a whole key is a prefix here
    assert await store.list_incomplete("exports/s1/r") == []
    assert await store.list_incomplete("") == [
        "exports/s1/r1.zip",
        "exports/s1/r2.zip",
        "exports/s12/r.zip",
        "uploads/s1/a.png",
    ]
    assert await store.list("exports") == ["exports/s1/done.zip"]  # unfinished uploads are no objects


async def test_aborting_a_keys_uploads_leaves_other_keys_and_every_object(
    store: ObjectStore,  # noqa: F811
    abandon: Abandon,
) -> None:
    await store.put("exports/s1/r1.zip", b"an earlier, finished archive", "application/zip")
    abandon("exports/s1/r1.zip")
    abandon("exports/s1/r1.zip")  # two killed attempts
    abandon("exports/s1/r2.zip")

    assert await store.abort_incomplete("exports/s1/r1.zip") == 2

    assert await store.list_incomplete("") == ["exports/s1/r2.zip"]
    assert await store.get("exports/s1/r1.zip") == b"an earlier, finished archive"
    assert await store.abort_incomplete("exports/s1/r1.zip") == 0  # idempotent


async def test_aborting_a_folder_takes_whole_segments_only(store: ObjectStore, abandon: Abandon) -> None:  # noqa: F811
    for key in ("outputs/s1/g1/a.png", "outputs/s1/g2/video.mp4", "outputs/s12/g/a.png", "exports/s1/r.zip"):
        abandon(key)

    assert await store.abort_incomplete("outputs/s1/") == 2

    assert await store.list_incomplete("") == ["exports/s1/r.zip", "outputs/s12/g/a.png"]
    assert await store.abort_incomplete("outputs/s1") == 0
    assert await store.abort_incomplete("nobody/here") == 0


async def test_abort_incomplete_refuses_an_empty_or_bad_prefix(store: ObjectStore, abandon: Abandon) -> None:  # noqa: F811
    abandon("a/b")
    for prefix in ("", "/", "../a", "a//b"):
        with pytest.raises(ValueError):
            await store.abort_incomplete(prefix)
    with pytest.raises(ValueError):
        await store.list_incomplete("../a")
    assert await store.list_incomplete("") == ["a/b"]


async def test_finished_failed_and_cancelled_streams_leave_nothing_unfinished(store: ObjectStore) -> None:  # noqa: F811
    async def chunks(fail: bool = False, hang: asyncio.Event | None = None) -> AsyncIterator[bytes]:
        yield os.urandom(9 * MiB)  # past one S3 part: a multipart upload is under way
        if hang is not None:
            await hang.wait()
        if fail:
            raise RuntimeError("source failed")
        yield os.urandom(MiB)

    assert await store.put_stream("exports/s/ok.zip", chunks(), "application/zip") == 10 * MiB
    with pytest.raises(RuntimeError, match="source failed"):
        await store.put_stream("exports/s/failed.zip", chunks(fail=True), "application/zip")
    # a worker stopping cancels its tasks: the upload under way must not outlive it
    writer = asyncio.create_task(
        store.put_stream("exports/s/cancelled.zip", chunks(hang=asyncio.Event()), "application/zip")
    )
    await wait_until_listed(store, "exports/s/cancelled.zip")
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer

    assert await store.list_incomplete("") == []
    assert await store.list("exports") == ["exports/s/ok.zip"]


async def test_a_stream_whose_upload_is_aborted_meanwhile_stores_nothing(store: ObjectStore) -> None:  # noqa: F811
    go_on = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield os.urandom(9 * MiB)
        await go_on.wait()
        yield os.urandom(9 * MiB)

    writer = asyncio.create_task(store.put_stream("exports/s/r.zip", chunks(), "application/zip"))
    await wait_until_listed(store, "exports/s/r.zip")

    assert await store.abort_incomplete("exports/s") == 1  # an erasure while the export is written
    go_on.set()
    with pytest.raises(Exception):
        await writer

    assert await store.list_incomplete("") == []
    assert not await store.exists("exports/s/r.zip")


async def test_s3_abort_frees_the_stored_parts(s3_store: S3ObjectStore, moto_s3: MotoS3Server) -> None:  # noqa: F811
    abandon_upload(s3_store, "exports/s/r.zip", moto_s3)
    s3 = moto_s3.client()
    [upload] = s3.list_multipart_uploads(Bucket=s3_store.bucket)["Uploads"]
    assert len(s3.list_parts(Bucket=s3_store.bucket, Key=upload["Key"], UploadId=upload["UploadId"])["Parts"]) == 1

    assert await s3_store.abort_incomplete("exports/s") == 1

    assert s3.list_multipart_uploads(Bucket=s3_store.bucket).get("Uploads", []) == []
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.list_parts(Bucket=s3_store.bucket, Key=upload["Key"], UploadId=upload["UploadId"])


def lifecycle_rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ID": "abort-incomplete-multipart-uploads",
        "Status": "Enabled",
        "Filter": {},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    return {**rule, **changes}


@pytest.mark.parametrize(
    ("rules", "warned"),
    [
        (None, True),
        ([lifecycle_rule()], False),
        ([lifecycle_rule(Filter={"Prefix": ""})], False),
        ([lifecycle_rule(Filter={"Prefix": "exports/"})], True),  # uploads/ and outputs/ keep their parts
        ([lifecycle_rule(Status="Disabled")], True),
        ([{"ID": "expire", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}], True),
    ],
    ids=["no-configuration", "whole-bucket", "empty-prefix", "one-prefix-only", "disabled", "other-rule"],
)
async def test_s3_start_up_warns_without_a_rule_aborting_incomplete_uploads(
    s3_store: S3ObjectStore,  # noqa: F811
    moto_s3: MotoS3Server,  # noqa: F811
    rules: list[dict[str, Any]] | None,
    warned: bool,
) -> None:
    if rules is not None:
        moto_s3.client().put_bucket_lifecycle_configuration(
            Bucket=s3_store.bucket, LifecycleConfiguration={"Rules": rules}
        )
    with capture_logs() as logs:
        await s3_store.check_lifecycle()
    events = [entry["event"] for entry in logs]
    assert events == (["s3_lifecycle_missing_abort_rule"] if warned else [])
    assert all(entry["log_level"] == "warning" and entry["bucket"] == s3_store.bucket for entry in logs)


async def test_s3_start_up_check_never_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    unreachable = S3ObjectStore("bucket", "http://127.0.0.1:9", "us-east-1", "key", "secret")  # nothing listens
    with capture_logs() as logs:
        await unreachable.check_lifecycle()
    assert [entry["event"] for entry in logs] == ["s3_lifecycle_unchecked"]


def test_local_store_removes_partial_files_older_than_a_day_when_it_opens(tmp_path: Path) -> None:
    local = LocalObjectStore(tmp_path / "store", b"k" * 32, "http://127.0.0.1/files")
    abandon_upload(local, "outputs/s/old.png")
    abandon_upload(local, "outputs/s/fresh.png")
    legacy = tmp_path / "store" / "tmp" / "0123abcd.part"  # the flat layout of earlier releases names no key
    legacy.write_bytes(b"left by a killed writer")
    day_and_a_bit = time.time() - 25 * 3600
    for path in [legacy, *(tmp_path / "store" / "tmp" / "outputs" / "s" / "old.png").iterdir()]:
        os.utime(path, (day_and_a_bit, day_and_a_bit))

    reopened = LocalObjectStore(tmp_path / "store", b"k" * 32, "http://127.0.0.1/files")

    assert asyncio.run(reopened.list_incomplete("")) == ["outputs/s/fresh.png"]
    assert not legacy.exists()
