"""Generation workers killed with SIGKILL inside a job, between an effect and the job's commit (issue 18), then
restarted without the failpoint: the job ends succeeded, with one set of outputs and its credits charged once.

- ``dreamina serve`` (embedded profile, SQLite, in-process queue, offline renderer): killed after the outputs are
  stored and before the job succeeds, then after the credits are captured and before the job succeeds.
- ``dreamina worker`` (SAQ on Redis, PostgreSQL, Replicate's API emulated over HTTP on 127.0.0.1): killed after the
  prediction was sent and before its id is stored, then after the credits are captured.

A provider request sent just before a kill is not ours to take back: the Replicate adapter sends no idempotency key
and the API has no delete call, so the restarted job sends a second prediction and the first is never read
(Replicate removes both after an hour). What the guarantees need holds, and the test checks it: each prediction the
vendor received has its own disclosure in the ledger, written before it was sent (G10); the subject pays once; one
set of outputs is kept.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.billing import EntryKind
from dreamina.ports.generation import GenerationStatus
from dreamina.settings import load_settings
from tests.loopback import http

from ..conftest import _fresh_database_url
from ..contract.vendor_emulators import TOKEN, ReplicateEmulator
from .fault_rig import PrivateRedis, free_port
from .helpers import PASSWORD
from .kill_rig import killed_at, start, stop, until
from .loopback_vendor import LoopbackVendor
from .test_serve_process import _sign_up

WELCOME_CREDITS, IMAGE_COST, COUNT = 40, 4, 2


async def assert_charged_once(container: Container, subject: UUID, generation_id: UUID) -> None:
    """The job succeeded with ``COUNT`` outputs, exactly those objects are stored, and its credits were reserved
    and captured once (never released: a release after a capture would give them back)."""
    async with container.infra.uow() as uow:
        generation = await uow.generations.get(generation_id)
        entries = await uow.billing.list_entries(subject, None, 100)
    assert generation is not None and generation.status is GenerationStatus.SUCCEEDED, generation
    stored = await container.infra.object_store.list(f"outputs/{subject}/{generation_id}")
    assert sorted(stored) == sorted(o.object_key for o in generation.outputs) and len(stored) == COUNT
    mine = [e.kind for e in entries if e.reference == str(generation_id)]
    assert sorted(mine) == sorted([EntryKind.RESERVE, EntryKind.CAPTURE]), mine
    assert await container.billing.credits.balance(subject) == WELCOME_CREDITS - IMAGE_COST * COUNT


# --- embedded: dreamina serve ---------------------------------------------------------------------------------


def serve_settings(data: Path, port: int, render_seconds: float, failpoint: str = "") -> dict[str, str]:
    settings = {
        "DREAMINA_PORT": str(port),
        "DREAMINA_DATA_DIR": str(data),
        "DREAMINA_ARGON2_MEMORY_KIB": "8192",
        "DREAMINA_OFFLINE_RENDER_SECONDS": str(render_seconds),
        # each kill costs the offline renderer two runs: its cache of rendered jobs dies with the process, so the
        # resumed run finds no job there and submits again
        "DREAMINA_GENERATION_MAX_ATTEMPTS": "8",
    }
    return {**settings, "DREAMINA_FAILPOINTS": failpoint} if failpoint else settings


def healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if http.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not come up in 30 s"
        time.sleep(0.2)


async def test_serve_killed_after_storing_outputs_and_after_capturing_charges_once(tmp_path: Path) -> None:
    data, port, log = tmp_path / "data", free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"

    # 1. Killed with the outputs stored and the job still running. (A second of pretend render time: the 202 leaves
    # before the job reaches the failpoint.)
    point = "generation.after_effect=outputs_stored"
    server = start("serve", serve_settings(data, port, 1.0, point), log)
    try:
        healthy(base, server)
        headers = _sign_up(base, "kill.serve@example.com")
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
            body = {"kind": "image", "prompt": "a lantern on a night ferry", "params": {"count": COUNT}}
            accepted = await http.post("/v1/generations", json=body)
        assert accepted.status_code == 202, accepted.text
        generation_id = UUID(accepted.json()["id"])
    except BaseException:
        stop(server)
        raise
    await killed_at(server, point, log)
    outputs = data / "objects" / "objects" / "outputs"
    assert len(list(outputs.glob(f"*/{generation_id}/*"))) == COUNT

    # 2. Restarted: the job runs again and is killed with its credits captured and the job still running.
    point = "generation.after_effect=charge_settled"
    await killed_at(start("serve", serve_settings(data, port, 0, point), log), point, log)

    # 3. Restarted without a failpoint, as the README runs it: the job ends.
    server = start("serve", serve_settings(data, port, 0), log)
    try:
        healthy(base, server)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:

            async def ended() -> bool:
                answer = await http.get(f"/v1/generations/{generation_id}")
                return bool(answer.json()["status"] in ("succeeded", "failed"))

            await until(ended, "the job's end", log)
            balance = (await http.get("/v1/billing/balance")).json()["credits"]
    finally:
        stop(server)
    assert balance == WELCOME_CREDITS - IMAGE_COST * COUNT
    container = build_container(load_settings(serve_settings(data, port, 0)), job_queue=ManualJobQueue())
    try:
        async with container.infra.uow() as uow:
            generation = await uow.generations.get(generation_id)
        assert generation is not None
        await assert_charged_once(container, generation.subject_id, generation_id)
    finally:
        await container.aclose()


# --- production: dreamina worker on SAQ -----------------------------------------------------------------------


@pytest.fixture
async def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await _fresh_database_url(request, "postgres", tmp_path)


@pytest.fixture
def replicate() -> Iterator[LoopbackVendor]:
    with LoopbackVendor(ReplicateEmulator(), "api.replicate.com") as vendor:
        yield vendor


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_saq_worker_killed_after_sending_and_after_capturing_charges_once(
    postgres_url: str, replicate: LoopbackVendor, tmp_path: Path
) -> None:
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    settings = {
        "DREAMINA_DATA_DIR": str(tmp_path / "data"),
        "DREAMINA_DATABASE_URL": postgres_url,
        "DREAMINA_QUEUE": "saq",
        "DREAMINA_REDIS_URL": redis.url,
        "DREAMINA_JOB_LEASE_SECONDS": "3",  # a killed worker's job is taken back 3 s after its last renewal
        "DREAMINA_IMAGE_PROVIDER": "replicate",
        "DREAMINA_REPLICATE_API_TOKEN": TOKEN,
        "DREAMINA_REPLICATE_BASE_URL": replicate.base_url,
    }
    log = tmp_path / "worker.log"
    container = build_container(load_settings(settings), passwords=Argon2PasswordHasher.fast(), mailer=InMemoryMailer())
    await container.start()
    try:
        email = "kill.worker@example.com"
        await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
        token = await container.identity.sessions.issue_token(email, PASSWORD)
        subject = (await container.identity.sessions.authenticate(token.access_token)).account_id
        assert container.generation.generations is not None
        request = GenerationRequest(kind="image", prompt="a kite over salt flats", count=COUNT)
        generation_id = (await container.generation.generations.submit(subject, request)).id

        async def disclosures() -> int:
            async with container.infra.uow() as uow:
                found = await uow.disclosures.list_for_subject(subject)
            return sum(1 for d in found if d.processor == "replicate" and d.reference == str(generation_id))

        # 1. Killed with the prediction sent and its id not stored: the vendor has it, we cannot name it.
        point = "generation.after_effect=provider_submitted"
        await killed_at(start("worker", {**settings, "DREAMINA_FAILPOINTS": point}, log), point, log)
        assert len(replicate.seen("POST", "/predictions")) == 1
        assert await disclosures() == 1  # committed before the request left

        # 2. Restarted: the job is taken back, sent again (a new prediction, a new disclosure), its outputs stored,
        # its credits captured, and the worker killed before the job succeeds.
        point = "generation.after_effect=charge_settled"
        await killed_at(start("worker", {**settings, "DREAMINA_FAILPOINTS": point}, log), point, log)
        assert await container.billing.credits.balance(subject) == WELCOME_CREDITS - IMAGE_COST * COUNT

        # 3. Restarted without a failpoint: the job resumes at the stored prediction and ends.
        worker = start("worker", settings, log)
        try:

            async def ended() -> bool:
                async with container.infra.uow() as uow:
                    generation = await uow.generations.get(generation_id)
                return generation is not None and generation.status.terminal

            await until(ended, "the job's end", log)
        finally:
            stop(worker)
        await assert_charged_once(container, subject, generation_id)
        predictions = replicate.seen("POST", "/predictions")
        assert len(predictions) == 2 == await disclosures()  # every hand-off in the ledger (G10)
        # the prediction sent before the first kill was never read back: only the second one's files were fetched
        assert replicate.seen("GET", "cdn.example/replicate/replicate-job-1/") == []
        assert len(replicate.seen("GET", "cdn.example/replicate/replicate-job-2/")) == 2 * COUNT  # runs 2 and 3
    finally:
        await container.aclose()
        redis.kill()
