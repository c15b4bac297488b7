"""Benchmark: generation submissions through the API, and end-to-end job latency with the offline renderer.

Run with ``bench/run`` (embedded SQLite, plus PostgreSQL when DREAMINA_BENCH_POSTGRES_URL is set). Prints, per
backend:
- ``POST /v1/generations`` per second (auth, validation, restriction check, prompt sealing, charge reservation,
  insert, enqueue) against a bare Litestar app answering the same request with the same 202 body;
- submit-to-succeeded latency of image and video jobs (API, in-process queue, offline renderer, object store,
  commit) against the renderer alone drawing the same request.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import msgspec
from common import UNLIMITED, rate
from litestar import Litestar, post
from litestar.params import JSONBody
from sqlalchemy import text

from dreamina.adapters.crypto import InMemoryKeyVault
from dreamina.adapters.images import PillowMediaRenderer
from dreamina.adapters.logs import configure_logging
from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.adapters.queue.in_process import InProcessJobQueue
from dreamina.adapters.sql.database import Database, upgrade
from dreamina.bootstrap import Container, build_container, sql_database
from dreamina.domain.identity.registrations import SignUp
from dreamina.entrypoints.http.app import create_app
from dreamina.ports.generation import GenerationKind, ProviderRequest
from dreamina.settings import load_settings

ROUNDS = int(os.environ.get("DREAMINA_BENCH_ROUNDS", "2000"))
JOBS = int(os.environ.get("DREAMINA_BENCH_JOBS", "20"))
BODY = {"kind": "image", "prompt": "a lighthouse at dusk, oil on canvas", "params": {"aspect_ratio": "1:1"}}


class Params(msgspec.Struct):
    aspect_ratio: str = "1:1"
    count: int = 1
    duration_seconds: int = 4
    seed: int | None = None


class Body(msgspec.Struct):
    kind: str
    prompt: str
    reference_upload_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    params: Params = msgspec.field(default_factory=Params)


class Accepted(msgspec.Struct):
    id: uuid.UUID
    status: str


@post("/v1/generations", status_code=202)
async def bare_submit(data: JSONBody[Body]) -> Accepted:
    return Accepted(uuid.uuid4(), "queued")


def latency(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


async def signed_in_headers(container: Container) -> dict[str, str]:
    email = f"bench-{time.time_ns()}@example.com"
    await container.identity.registrations.sign_up(
        SignUp(email, "correct horse battery staple", date(1990, 1, 1), "DE", None, 1)
    )
    token = (await container.identity.sessions.issue_token(email, "correct horse battery staple")).access_token
    return {"Authorization": f"Bearer {token}"}


VAULT = InMemoryKeyVault()


def wire(url: str, workdir: Path, database: Database, **overrides: Any) -> Container:
    settings = load_settings({"DREAMINA_DATA_DIR": str(workdir), **UNLIMITED})
    container = build_container(
        settings,
        uow=database.unit_of_work,
        database_ping=database.ping,
        vault=VAULT,
        mailer=InMemoryMailer(),
        passwords=Argon2PasswordHasher.fast(),
        **overrides,
    )
    return container


async def bench_submissions(name: str, url: str, workdir: Path) -> None:
    database = sql_database(url)
    container = wire(url, workdir, database, job_queue=ManualJobQueue())  # enqueue only: no job runs
    app = create_app(container=container)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):
        headers = await signed_in_headers(container)

        async def submit() -> object:
            response = await client.post("/v1/generations", json=BODY, headers=headers)
            assert response.status_code == 202, response.text
            return response

        bare = Litestar(route_handlers=[bare_submit], logging_config=None)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://bare") as bare_client:

            async def bare_call() -> object:
                response = await bare_client.post("/v1/generations", json=BODY, headers=headers)
                assert response.status_code == 202
                return response

            rounds = max(100, ROUNDS // 4)
            baseline = await rate(bare_call, rounds)
            measured = await rate(submit, rounds)
    print(
        f"{name:9} POST /v1/generations: {measured:8.0f}/s   bare Litestar, same request: {baseline:8.0f}/s   "
        f"ratio {baseline / measured:5.2f}x"
    )
    await container.aclose()
    await database.dispose()


async def bench_latency(name: str, url: str, workdir: Path) -> None:
    database = sql_database(url)
    async with database.engine.begin() as connection:  # the submissions left queued jobs: start from none
        await connection.execute(text("DELETE FROM generation_references"))
        await connection.execute(text("DELETE FROM generations"))
    container = wire(url, workdir, database)
    queue = container.generation.queue
    assert isinstance(queue, InProcessJobQueue)
    renderer = PillowMediaRenderer()
    app = create_app(container=container)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):
        headers = await signed_in_headers(container)
        for kind, body in (
            ("image", {**BODY, "params": {"aspect_ratio": "1:1", "seed": 1}}),
            ("video", {"kind": "video", "prompt": BODY["prompt"], "params": {"duration_seconds": 2, "seed": 1}}),
        ):
            end_to_end: list[float] = []
            alone: list[float] = []
            request = ProviderRequest("bench", GenerationKind(kind), str(body["prompt"]), (), "1:1", 1, 2, 1)
            for _ in range(JOBS):
                started = time.perf_counter()
                if kind == "image":
                    renderer.image(request, 0)
                else:
                    renderer.video(request)
                alone.append(time.perf_counter() - started)

                started = time.perf_counter()
                response = await client.post("/v1/generations", json=body, headers=headers)
                assert response.status_code == 202, response.text
                await queue.join()
                finished = await client.get(f"/v1/generations/{response.json()['id']}", headers=headers)
                end_to_end.append(time.perf_counter() - started)
                assert finished.json()["status"] == "succeeded", finished.text
            print(
                f"{name:9} {kind} job submit->succeeded: {latency(end_to_end)}   renderer alone: {latency(alone)}"
                f"   ratio {statistics.median(end_to_end) / statistics.median(alone):5.2f}x"
            )
    await container.aclose()
    await database.dispose()


async def main() -> int:
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"generation: rounds per sample {max(100, ROUNDS // 4)} (median of 3), {JOBS} jobs per latency figure")
        backends = [("sqlite", f"sqlite+aiosqlite:///{work / 'bench.sqlite3'}")]
        pg = os.environ.get("DREAMINA_BENCH_POSTGRES_URL")
        if pg:
            backends.append(("postgres", pg))
        for name, url in backends:
            await upgrade(url)
            await bench_submissions(name, url, work)
            await bench_latency(name, url, work)
        if not pg:
            print("postgres  skipped (set DREAMINA_BENCH_POSTGRES_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
