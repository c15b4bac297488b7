"""Benchmark: a data export of a large account (500 generation records, 500 uploads and 500 outputs) against
copying the same objects straight from the object store, each in its own worker process.

Run with ``bench/run``. Prints the export's MB/s, the copy's MB/s and their ratio, the worker's peak resident
memory (``ru_maxrss`` of the process that ran only that job) and the peak of Python allocations (tracemalloc).
Embedded profile: SQLite file and the local object store in a temporary directory.
``DREAMINA_BENCH_EXPORT_FILES`` (default 500 per prefix) and ``DREAMINA_BENCH_EXPORT_FILE_KIB`` (default 256) set
the size of the account.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from dreamina.adapters.logs import configure_logging
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.adapters.sql.database import upgrade
from dreamina.bootstrap import Container, build_container
from dreamina.domain.generation.rules import PROMPT_FIELD
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.generation import Generation, GenerationKind, GenerationOutput, GenerationStatus, Upload
from dreamina.settings import load_settings

FILES = int(os.environ.get("DREAMINA_BENCH_EXPORT_FILES", "500"))
FILE_KIB = int(os.environ.get("DREAMINA_BENCH_EXPORT_FILE_KIB", "256"))
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway account in a temporary database


def _container(workdir: Path) -> Container:
    settings = load_settings({"DREAMINA_DATA_DIR": str(workdir)})
    return build_container(settings, mailer=InMemoryMailer(), passwords=Argon2PasswordHasher.fast())


async def prepare(workdir: Path) -> dict[str, Any]:
    """An account with FILES generation records, FILES uploads and FILES outputs, and a pending export."""
    settings = load_settings({"DREAMINA_DATA_DIR": str(workdir)})
    await upgrade(settings.resolved_database_url)
    container = _container(workdir)
    await container.start()
    email = "bench-export@example.com"
    await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1, "Bench"))
    token = await container.identity.sessions.issue_token(email, PASSWORD)
    subject = (await container.identity.sessions.authenticate(token.access_token)).account_id
    total = 0
    block = os.urandom(FILE_KIB * 1024)  # incompressible, like the images and videos it stands for
    for prefix in ("uploads", "outputs"):
        for i in range(FILES):
            data = block[i % 97 :] + block[: i % 97]
            await container.infra.object_store.put(f"{prefix}/{subject}/{i:04}.png", data, "image/png")
            total += len(data)
    now = container.infra.clock.now()
    async with (
        container.infra.uow() as uow
    ):  # real rows: each generation has a sealed prompt, a reference and an output
        keyring = container.infra.keyrings(uow.subject_keys)
        for i in range(FILES):
            upload_id = uuid.uuid4()
            await uow.uploads.add(
                Upload(upload_id, subject, f"uploads/{subject}/{i:04}.png", "image/png", 512, 512, FILE_KIB * 1024, now)
            )
            await uow.generations.add(
                Generation(
                    id=uuid.uuid4(),
                    subject_id=subject,
                    kind=GenerationKind.IMAGE,
                    status=GenerationStatus.SUCCEEDED,
                    prompt_ciphertext=await keyring.seal(subject, PROMPT_FIELD, f"bench prompt number {i}"),
                    params={"count": 1, "aspect_ratio": "1:1"},
                    reference_upload_ids=(upload_id,),
                    provider="offline",
                    provider_job_id=None,
                    attempts=1,
                    failure_reason=None,
                    outputs=(GenerationOutput(f"outputs/{subject}/{i:04}.png", "image/png", FILE_KIB * 1024),),
                    created_at=now,
                    updated_at=now,
                )
            )
        await uow.commit()
    request = await container.data_rights.requests.submit(subject, "export", {}, password=PASSWORD)
    await container.aclose()
    return {"subject": str(subject), "request": str(request.id), "bytes": total}


async def run_export(workdir: Path) -> dict[str, Any]:
    container = _container(workdir)
    tracemalloc.start()
    started = time.perf_counter()
    counts = await container.data_rights.jobs.run_due()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    assert counts["done"] == 1, counts
    await container.aclose()
    return {"seconds": elapsed, "python_peak": peak, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


async def run_copy(workdir: Path, subject: str) -> dict[str, Any]:
    container = _container(workdir)
    store = container.infra.object_store
    keys = [*await store.list(f"uploads/{subject}"), *await store.list(f"outputs/{subject}")]
    tracemalloc.start()
    started = time.perf_counter()
    for key in keys:
        await store.put_stream(f"copies/{key}", await store.stream(key), "image/png")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    await container.aclose()
    return {"seconds": elapsed, "python_peak": peak, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _worker(mode: str, workdir: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, mode, str(workdir), *args], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"the {mode} worker failed:\n{done.stderr[-3000:]}")
    output = done.stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> int:
    configure_logging("WARNING")
    if len(sys.argv) > 2:  # a worker process
        mode, workdir = sys.argv[1], Path(sys.argv[2])
        if mode == "--export":
            print(json.dumps(asyncio.run(run_export(workdir))))
        else:
            print(json.dumps(asyncio.run(run_copy(workdir, sys.argv[3]))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        account = asyncio.run(prepare(workdir))
        megabytes = account["bytes"] / 1e6
        copy = _worker("--copy", workdir, account["subject"])
        export = _worker("--export", workdir)
        archive = next(workdir.rglob("exports/*/*.zip"))
        print(
            f"export of {FILES} generation records, {FILES} uploads + {FILES} outputs ({megabytes:.0f} MB, "
            f"archive {archive.stat().st_size / 1e6:.0f} MB, SQLite + local object store)"
        )
        for name, run in (("export job", export), ("store copy", copy)):
            print(
                f"  {name:10}: {megabytes / run['seconds']:7.1f} MB/s   worker peak RSS "
                f"{run['maxrss_kib'] / 1024:6.1f} MB   Python peak {run['python_peak'] / 1e6:6.1f} MB"
            )
        ratio = copy["seconds"] / export["seconds"]
        print(f"  export throughput / store-copy throughput: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
