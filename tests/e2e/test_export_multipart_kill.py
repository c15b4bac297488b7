"""A privacy worker killed -9 mid-export leaves no personal data in S3 (issue 13, finding 8), as real processes
against moto's S3 server. Before the fix the export completed after a restart but its first attempt's incomplete
multipart upload (an 8 MiB part holding account.json and uploads) stayed, and a later erasure left it too."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.data_rights import JobState
from dreamina.settings import load_settings

from ..contract.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoS3Server, running_moto_server
from .helpers import PASSWORD, verify_by_mail
from .slow_link import SlowLink, slow_link

MiB = 1024 * 1024
UPLOADS = 3  # 3 x 6 MiB of incompressible files: the archive needs three 8 MiB parts
UPSTREAM_BYTES_PER_SECOND = 4 * MiB  # one part takes ~2 s to send: time enough to see it stored and kill the worker
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
WAIT_SECONDS = 90.0  # a killed worker's job is taken over once its lease (6 s here) runs out
POSTGRES_ONLY = [pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def moto_s3() -> Iterator[MotoS3Server]:
    with running_moto_server() as server:
        yield server


def incomplete_uploads(s3: Any, bucket: str, prefix: str) -> list[tuple[str, int]]:
    """``(key, parts stored)`` for every incomplete multipart upload under ``prefix`` (moto's own view)."""
    found = []
    for upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []):
        parts = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]).get("Parts", [])
        found.append((upload["Key"], len(parts)))
    return found


def objects(s3: Any, bucket: str, prefix: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


async def start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:  # a file, not a pipe: a pipe nobody reads stalls the worker once full
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dreamina.entrypoints.cli",
            "privacy-worker",
            "--interval",
            "0.5",
            env=env,
            stdout=out,
            stderr=out,
        )


async def stop(worker: asyncio.subprocess.Process) -> None:
    if worker.returncode is None:
        worker.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(worker.wait(), timeout=15)
        except TimeoutError:
            worker.kill()
            await worker.wait()


async def due_now(container: Container, request_id: UUID) -> None:
    """The job may run at once (an erasure's grace period is over)."""
    async with container.infra.uow() as uow:
        job = await uow.privacy_jobs.get(request_id)
        assert job is not None
        job.run_at(container.infra.clock.now() - timedelta(seconds=1), container.infra.clock.now())
        await uow.privacy_jobs.update(job)
        await uow.commit()


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


async def wait_for(condition: Any, what: str, log: Path, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            tail = await asyncio.to_thread(log_tail, log)
            pytest.fail(f"{what} did not happen within {seconds:g} s; worker log:\n{tail}")
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
async def test_a_killed_export_and_a_later_erasure_leave_no_incomplete_upload(
    database_url: str, moto_s3: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROXY_VARIABLES:  # every S3 client must talk to 127.0.0.1 directly
        monkeypatch.delenv(name, raising=False)
    s3 = moto_s3.client()
    bucket = moto_s3.create_bucket()
    host, port = moto_s3.endpoint_url.removeprefix("http://").split(":")
    with slow_link((host, int(port)), UPSTREAM_BYTES_PER_SECOND) as link:
        await run_scenario(s3, bucket, moto_s3, link, database_url, tmp_path)


async def run_scenario(
    s3: Any, bucket: str, moto_s3: MotoS3Server, link: SlowLink, database_url: str, tmp_path: Path
) -> None:
    environment = {
        "DREAMINA_DATA_DIR": str(tmp_path / "data"),
        "DREAMINA_DATABASE_URL": database_url,
        "DREAMINA_JOB_LEASE_SECONDS": "6",  # the dead worker's job is taken over 6 s after its last renewal
        "DREAMINA_OBJECT_STORE": "s3",
        "DREAMINA_S3_BUCKET": bucket,
        "DREAMINA_S3_REGION": REGION,
        "DREAMINA_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "DREAMINA_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    }
    direct = {**environment, "DREAMINA_S3_ENDPOINT_URL": moto_s3.endpoint_url}
    container = build_container(load_settings(direct), passwords=Argon2PasswordHasher.fast(), mailer=InMemoryMailer())
    await container.start()
    try:
        email = "exporter@example.com"
        await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
        await verify_by_mail(container, email)
        token = await container.identity.sessions.issue_token(email, PASSWORD)
        subject = (await container.identity.sessions.authenticate(token.access_token)).account_id
        for n in range(UPLOADS):  # the subject's uploads, exported as the original files
            await container.infra.object_store.put(f"uploads/{subject}/{n}.bin", os.urandom(6 * MiB), "image/png")
        export = await container.data_rights.requests.submit(subject, "export", {}, password=PASSWORD)
        await due_now(container, export.id)
    finally:
        await container.aclose()
    export_key = f"exports/{subject}/{export.id}.zip"
    prefixes = [f"{p}/{subject}/" for p in ("uploads", "outputs", "exports")]

    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_") and k not in PROXY_VARIABLES}
    env.update(environment, DREAMINA_S3_ENDPOINT_URL=f"http://127.0.0.1:{link.port}", NO_PROXY="*")
    log = tmp_path / "workers.log"

    # 1. The first worker is killed -9 while the archive's multipart upload holds a part but is not complete.
    first = await start_worker(env, log)
    try:

        async def part_stored() -> bool:
            assert not await asyncio.to_thread(objects, s3, bucket, export_key), "the export completed before the kill"
            uploads = await asyncio.to_thread(incomplete_uploads, s3, bucket, export_key)
            return any(parts for _, parts in uploads)

        await wait_for(part_stored, "a stored part of the export's multipart upload", log)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        await stop(first)
    assert [parts > 0 for _, parts in incomplete_uploads(s3, bucket, export_key)] == [True]

    # 2. A restarted worker finishes the export (once the dead worker's lease runs out) and leaves no stale upload.
    link.budget.rate = None
    second = await start_worker(env, log)
    try:
        container = build_container(load_settings(direct))
        try:

            async def exported() -> bool:
                async with container.infra.uow() as uow:
                    job = await uow.privacy_jobs.get(export.id)
                    return job is not None and job.state == JobState.DONE

            await wait_for(exported, "the export's completion after the restart", log)
            assert objects(s3, bucket, export_key) == [export_key]
            assert incomplete_uploads(s3, bucket, "exports/") == [], "the killed attempt's upload is still there"

            # 3. An erasure of the subject leaves no object and no incomplete upload under any of their prefixes,
            # including uploads left by writers killed elsewhere (a generation's output, another export).
            for key in (f"outputs/{subject}/gen/video.mp4", f"exports/{subject}/other.zip"):
                upload = s3.create_multipart_upload(Bucket=bucket, Key=key)
                s3.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=os.urandom(5 * MiB)
                )
            erasure = await container.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD)
            await due_now(container, erasure.id)

            async def erased() -> bool:
                async with container.infra.uow() as uow:
                    return not await uow.privacy_requests.list_for_subject(subject)  # the saga's very last step

            await wait_for(erased, "the erasure's end", log)
        finally:
            await container.aclose()
    finally:
        await stop(second)
    for prefix in prefixes:
        assert objects(s3, bucket, prefix) == [], prefix
        assert incomplete_uploads(s3, bucket, prefix) == [], prefix
    events = log.read_text()
    assert '"event": "export_stale_uploads_aborted"' in events
    assert '"event": "s3_lifecycle_missing_abort_rule"' in events  # moto's bucket has no lifecycle rule
    assert str(subject) not in events and "exporter@example.com" not in events
