"""Scale-out (issue 14, item 3): one user driven across several API processes and workers, as real processes, over
PostgreSQL, Redis and an S3 server (moto on 127.0.0.1). Nothing the user's requests need may live in one process.

Processes: API 1 is ``dreamina serve`` (one process), API 2 is ``dreamina serve --workers 2`` (two processes under
uvicorn's supervisor on one port), two ``dreamina worker`` (SAQ) and one ``dreamina privacy-worker``. The user signs
up and gets a token on API 1, verifies the address and uploads and generates on API 2, polls on both, downloads the
output from the bucket, asks for an export on API 1 and proves it with the mailed code on API 2, downloads the ZIP
through API 2, asks for erasure on API 2; a privacy officer (granted by ``dreamina staff create``) expedites it on API
1; the privacy worker erases. Then the token is refused by every API process within the bearer-token cache's bound,
and no table, object or Redis key links to the subject.

The second test is a gap this scale-out found, now closed: each API process caches checked bearer tokens for
``DREAMINA_SESSION_CACHE_SECONDS``, and an erasure run by the privacy worker (another process) could not make them
forget; within that time the erased subject's token still wrote consent records and analytics events. Sessions ended
anywhere are now announced by PostgreSQL NOTIFY (``adapters/sql/principal_cache.py``); the test runs with a 30 s cache.

Redis is a private ``redis-server`` (``fault_rig.PrivateRedis``), not the suite's shared database: the processes use
the service's fixed key names (the SAQ queue, the budgets), which other tests or another run of the suite on the same
server would share.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import io
import os
import re
import signal
import subprocess
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from PIL import Image

from dreamina.adapters.mail.outbox import read_outbox
from dreamina.bootstrap import sql_database
from tests import processes

from ..conftest import _fresh_database_url
from ..contract.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoS3Server, running_moto_server
from ..integration.test_erasure_residue import scan_tables
from ..log_audit import KNOWN_SECRETS
from .fault_rig import PrivateRedis, assert_json_lines_without_tracebacks, free_port, process_env
from .helpers import PASSWORD, TOKEN_IN_LINK
from .kill_rig import PROXY_VARIABLES, start, stop, tail

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SESSION_CACHE_SECONDS = 5.0  # DREAMINA_SESSION_CACHE_SECONDS: how long an API process may still accept a token
WAIT = 40.0
PROMPT = "a lighthouse painted by two processes"
EMAIL, OFFICER = "many.processes@example.com", "officer.processes@example.com"


@pytest.fixture
def moto_s3() -> Iterator[MotoS3Server]:
    with running_moto_server() as server:
        yield server


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
async def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await _fresh_database_url(request, "postgres", tmp_path)


class Fleet:
    """The processes, their logs (``*.log`` under the test's directory: the log audit scans them) and settings."""

    def __init__(self, tmp_path: Path, settings: dict[str, str]) -> None:
        self.tmp_path, self.settings = tmp_path, settings
        self.ports = (free_port(), free_port())  # API 1, API 2
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: str, *args: str, **more: str) -> subprocess.Popen[bytes]:
        process = start(command, {**self.settings, **more}, self.log(name), *args)
        self.running.append((name, process))
        return process

    def log(self, name: str) -> Path:
        return self.tmp_path / f"{name}.log"

    def cli(self, name: str, *args: str) -> None:
        """A one-shot ``dreamina`` command, as an operator runs it on a machine with the settings."""
        env = {k: v for k, v in process_env(self.settings).items() if k not in PROXY_VARIABLES}
        with self.log(name).open("ab") as out:
            assert processes.run(list(args), env, out) == 0, tail(self.log(name))

    def alive(self) -> None:
        for name, process in self.running:
            assert process.poll() is None, f"{name} exited ({process.returncode}):\n{tail(self.log(name))}"

    def stop_all(self) -> dict[str, int]:
        return {name: stop(process) for name, process in self.running}  # SIGTERM, as an operator stops them


async def until(what: str, check: Callable[[], Awaitable[Any]], fleet: Fleet, seconds: float = WAIT) -> Any:
    """``check()``'s first truthy result; fails after ``seconds``, or as soon as a process died."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        fleet.alive()
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds:g} s"
        await asyncio.sleep(0.25)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 200)).save(out, "PNG")
    return out.getvalue()


def mailed(outbox: Path, kind: str, pattern: re.Pattern[str]) -> str | None:
    """What ``pattern`` finds in the last ``kind`` message to the user (the outbox folder all processes share)."""
    found = [pattern.search(m.body) for m in read_outbox(outbox) if m.kind == kind and m.to == EMAIL]
    return found[-1].group(1) if found and found[-1] else None


def bucket_residue(moto_s3: MotoS3Server, bucket: str, needles: dict[str, bytes]) -> list[str]:
    """Every object (key and bytes) and unfinished upload in the bucket that holds a needle."""
    s3, found = moto_s3.client(), []
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        data = item["Key"].encode() + b"\n" + s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        found += [f"object {item['Key']}: {what}" for what, needle in needles.items() if needle in data]
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        found += [f"upload {upload['Key']}: {what}" for what, n in needles.items() if n in upload["Key"].encode()]
    return found


def redis_value(client: Any, key: bytes) -> list[Any]:
    kind = client.type(key)
    if kind == b"string":
        return [client.get(key)]
    if kind == b"hash":
        return [x for pair in client.hgetall(key).items() for x in pair]
    if kind == b"list":
        return list(client.lrange(key, 0, -1))
    if kind == b"set":
        return list(client.smembers(key))
    if kind == b"zset":
        return list(client.zrange(key, 0, -1))
    return [kind]  # a type the service does not use: its name, so a new one is at least noticed by the test's reader


def redis_residue(server: PrivateRedis, needles: dict[str, bytes]) -> list[str]:
    """Every Redis key (name and value, whatever its type) that holds a needle: queue payloads, budgets, throttles."""
    client: Any = redis.Redis(port=server.port)
    found: list[str] = []
    try:
        for key in client.scan_iter(count=500):
            data = b"\n".join([key, *(v for v in redis_value(client, key) if isinstance(v, bytes))])
            found += [f"redis {key!r}: {what}" for what, needle in needles.items() if needle in data]
    finally:
        client.close()
    return found


@pytest.fixture
async def fleet(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_url: str,
    moto_s3: MotoS3Server,
    private_redis: PrivateRedis,
) -> AsyncIterator[Fleet]:
    """API 1 (``serve``), API 2 (``serve --workers 2``), the privacy worker and (unless the test's parameter says
    ``generation_workers: 0``) two SAQ workers; parameter ``session_cache_seconds`` (default 5)."""
    options: dict[str, Any] = getattr(request, "param", {})
    settings = {
        "DREAMINA_DATA_DIR": str(tmp_path / "data"),  # shared only for the mail outbox folder
        "DREAMINA_DATABASE_URL": postgres_url,
        "DREAMINA_QUEUE": "saq",
        "DREAMINA_REDIS_URL": private_redis.url,
        "DREAMINA_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "DREAMINA_OBJECT_STORE": "s3",
        "DREAMINA_S3_BUCKET": moto_s3.create_bucket(),
        "DREAMINA_S3_ENDPOINT_URL": moto_s3.endpoint_url,
        "DREAMINA_S3_REGION": REGION,
        "DREAMINA_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "DREAMINA_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "DREAMINA_SESSION_CACHE_SECONDS": str(options.get("session_cache_seconds", SESSION_CACHE_SECONDS)),
        "DREAMINA_ARGON2_TIME_COST": "1",
        "DREAMINA_ARGON2_MEMORY_KIB": "8192",
        "DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE": "100",  # every request comes from 127.0.0.1
    }
    fleet = Fleet(tmp_path, settings)
    try:
        fleet.start("api-1", "serve", DREAMINA_PORT=str(fleet.ports[0]))
        fleet.start("api-2", "serve", "--workers", "2", DREAMINA_PORT=str(fleet.ports[1]))
        for n in range(options.get("generation_workers", 2)):
            fleet.start(f"worker-{n + 1}", "worker")
        fleet.start("privacy-worker", "privacy-worker", "--interval", "0.5")
        yield fleet
    finally:
        codes = fleet.stop_all()
    # Each API process shut down gracefully on SIGTERM (one uvicorn process re-raises the signal once it has: -15;
    # the supervisor stops its children and exits 0).
    assert codes["api-1"] in (0, -signal.SIGTERM) and codes["api-2"] == 0, codes
    for name, count in (("api-1", 1), ("api-2", 2)):
        assert fleet.log(name).read_text().count('"Application shutdown complete."') == count, name
    for name, _ in fleet.running:
        assert_json_lines_without_tracebacks(fleet.log(name))


async def test_one_user_across_two_api_processes_and_two_workers(
    fleet: Fleet, moto_s3: MotoS3Server, private_redis: PrivateRedis, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROXY_VARIABLES:  # the test's own clients talk to 127.0.0.1 directly too
        monkeypatch.delenv(name, raising=False)
    started = time.monotonic()
    outbox = Path(fleet.settings["DREAMINA_DATA_DIR"]) / "outbox"
    one, two = (httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30) for p in fleet.ports)
    async with one, two:
        await everything_up(fleet, one, two)
        up = time.monotonic() - started

        # Sign-up and token on API 1; the address verified on API 2 with the link API 1 mailed.
        body = {"email": EMAIL, "password": PASSWORD, "birth_date": "1990-01-01", "country": "DE"}
        assert (await one.post("/v1/accounts", json={**body, "accept_policy_version": 1})).status_code == 201
        link = await until(
            "the verification mail", lambda: _in_thread(mailed, outbox, "verify_email", TOKEN_IN_LINK), fleet
        )
        KNOWN_SECRETS.add(link)
        assert (await two.post("/v1/auth/verify-email", json={"token": link})).status_code == 204
        issued = await one.post("/v1/auth/token", json={"email": EMAIL, "password": PASSWORD})
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        KNOWN_SECRETS.add(token)
        auth = {"Authorization": f"Bearer {token}"}
        subject = uuid.UUID((await two.get("/v1/me", headers=auth)).json()["id"])

        # Upload and generate on API 2; a SAQ worker renders; the job is polled on both APIs.
        uploaded = await two.post("/v1/uploads", files={"file": ("ref.png", png(), "image/png")}, headers=auth)
        assert uploaded.status_code == 201, uploaded.text
        submission = {"kind": "image", "prompt": PROMPT, "reference_upload_ids": [uploaded.json()["id"]]}
        submitted = await two.post("/v1/generations", json=submission, headers=auth)
        assert submitted.status_code == 202, submitted.text
        generation = submitted.json()["id"]
        polls = iter(range(10_000))

        async def succeeded() -> dict[str, Any] | None:
            api = (one, two)[next(polls) % 2]
            view = (await api.get(f"/v1/generations/{generation}", headers=auth)).json()
            assert view["status"] in ("queued", "running", "succeeded"), view
            return view if view["status"] == "succeeded" else None

        view = await until("the generation's success", succeeded, fleet)
        output = (await httpx.AsyncClient(trust_env=False).get(view["outputs"][0]["url"])).content
        assert output.startswith(b"\x89PNG"), output[:40]
        generated = time.monotonic() - started

        # Export: asked on API 1, proved with the mailed code on API 2, run by the privacy worker, downloaded on API 2.
        asked = await one.post("/v1/privacy/requests", json={"type": "export"}, headers=auth)
        assert asked.status_code == 202, asked.text
        export = asked.json()["id"]
        code = await until(
            "the identity code",
            lambda: _in_thread(mailed, outbox, "privacy_request_code", re.compile(r"\b(\d{6})\b")),
            fleet,
        )
        proved = await two.post(f"/v1/privacy/requests/{export}/verify", json={"code": code}, headers=auth)
        assert proved.status_code == 200, proved.text

        async def completed() -> bool:
            return bool((await one.get(f"/v1/privacy/requests/{export}", headers=auth)).json()["status"] == "completed")

        await until("the export's completion", completed, fleet)
        archive = await two.get(f"/v1/privacy/requests/{export}/download", headers=auth)
        assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip", archive.text[:200]
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            assert any(zipped.read(name) == output for name in zipped.namelist()), zipped.namelist()
        exported = time.monotonic() - started

        # Erasure: asked and proved on API 2; a privacy officer (granted by the CLI) expedites it on API 1.
        await one.post("/v1/accounts", json={**body, "email": OFFICER, "accept_policy_version": 1})
        await asyncio.to_thread(fleet.cli, "staff-cli", "staff", "create", OFFICER, "privacy_officer")
        officer = await two.post("/v1/auth/token", json={"email": OFFICER, "password": PASSWORD})
        KNOWN_SECRETS.add(officer.json()["access_token"])
        staff = {"Authorization": f"Bearer {officer.json()['access_token']}"}
        erasure = await two.post("/v1/privacy/requests", json={"type": "erasure", "password": PASSWORD}, headers=auth)
        assert erasure.status_code == 202, erasure.text
        expedited = await one.post(
            f"/v1/admin/privacy/requests/{erasure.json()['id']}/expedite",
            json={"reason": "asked in person"},
            headers=staff,
        )
        assert expedited.status_code == 200, expedited.text
        database = sql_database(postgres_url, pooled=False)
        try:

            async def erased() -> bool:
                async with database.unit_of_work() as uow:
                    return await uow.accounts.get(subject) is None and not await uow.privacy_requests.list_for_subject(
                        subject
                    )

            await until("the erasure's end", erased, fleet)
            gone_at = time.monotonic()

            # Every API process refuses the token within the cache's bound (API 2's two processes take turns).
            async def refused_everywhere() -> bool:
                answers = [(await api.get("/v1/me", headers=auth)).status_code for api in (one, two, two, two, two)]
                return set(answers) == {401}

            await until("the token refused by every API process", refused_everywhere, fleet)
            assert time.monotonic() - gone_at < SESSION_CACHE_SECONDS + 4  # + polling on a busy machine
            erased_after = time.monotonic() - started

            needles = {
                "subject id (text)": str(subject).encode(),
                "subject id (hex)": subject.hex.encode(),
                "subject id (bytes)": subject.bytes,
                "email": EMAIL.encode(),
                "prompt": PROMPT.encode(),
                "output bytes": output,
            }
            assert await scan_tables(database, needles) == []
        finally:
            await database.dispose()
    bucket = fleet.settings["DREAMINA_S3_BUCKET"]
    assert await asyncio.to_thread(bucket_residue, moto_s3, bucket, needles) == []
    assert await asyncio.to_thread(redis_residue, private_redis, needles) == []
    api_2 = fleet.log("api-2").read_text()
    assert api_2.count('"event": "api_process_starting"') == 2  # two API processes behind API 2's port
    print(
        f"processes up {up:.1f} s; generated {generated:.1f} s; exported {exported:.1f} s; erased and refused "
        f"everywhere {erased_after:.1f} s"
    )


async def everything_up(fleet: Fleet, *apis: httpx.AsyncClient) -> None:
    """Every API answers ``/ready`` (its database, Redis and bucket) and every SAQ worker has started."""

    async def ready() -> bool:
        try:
            return all([(await api.get("/ready")).status_code == 200 for api in apis])
        except httpx.TransportError:
            return False

    await until("every API ready", ready, fleet, 60)
    for name, _ in fleet.running:
        if name.startswith("worker-"):
            await until(
                f"{name} started", functools.partial(_in_thread, _logged, fleet.log(name), "worker_started"), fleet
            )


def _logged(log: Path, event: str) -> bool:
    return f'"event": "{event}"' in log.read_text(errors="replace") if log.exists() else False


async def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


@pytest.mark.parametrize("fleet", [{"session_cache_seconds": 30, "generation_workers": 0}], indirect=True)
async def test_a_token_cached_by_an_api_process_writes_nothing_after_the_erasure(
    fleet: Fleet, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dreamina.adapters.crypto import EnvKeyVault
    from dreamina.domain.consent.analytics import subject_pseudonyms

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    one, two = (httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30) for p in fleet.ports)
    database = sql_database(postgres_url, pooled=False)
    async with one, two:
        try:
            await everything_up(fleet, one, two)
            body = {"email": EMAIL, "password": PASSWORD, "birth_date": "1990-01-01", "country": "DE"}
            assert (await one.post("/v1/accounts", json={**body, "accept_policy_version": 1})).status_code == 201
            token = (await one.post("/v1/auth/token", json={"email": EMAIL, "password": PASSWORD})).json()
            KNOWN_SECRETS.add(token["access_token"])
            auth = {"Authorization": f"Bearer {token['access_token']}"}
            for api in (one, two, two, two, two, two, two):  # the token cached by each API process (API 2 has two)
                assert (await api.get("/v1/me", headers=auth)).status_code == 200
            subject = uuid.UUID((await one.get("/v1/me", headers=auth)).json()["id"])
            asked = await two.post("/v1/privacy/requests", json={"type": "erasure", "password": PASSWORD}, headers=auth)
            assert asked.status_code == 202, asked.text
            async with database.unit_of_work() as uow:  # its grace period over (as `dreamina privacy expedite` does)
                job = await uow.privacy_jobs.get(uuid.UUID(asked.json()["id"]))
                assert job is not None
                now = datetime.now(UTC)
                job.run_at(now - timedelta(seconds=1), now)
                await uow.privacy_jobs.update(job)
                await uow.commit()

            async def erased() -> bool:
                async with database.unit_of_work() as uow:
                    return await uow.accounts.get(subject) is None and not await uow.privacy_requests.list_for_subject(
                        subject
                    )

            await until("the erasure's end", erased, fleet)
            consent = {"functional": True, "analytics": True, "marketing": True}
            events = {"events": [{"name": "page_view", "page": "/after-erasure"}]}
            answers = []
            for api in (one, two, two, two, two):
                answers.append((await api.put("/v1/consent", json=consent, headers=auth)).status_code)
                answers.append((await api.post("/v1/analytics/events", json=events, headers=auth)).status_code)
            print(f"writes with the erased subject's token after the erasure: {answers}")
            vault = EnvKeyVault(fleet.settings["DREAMINA_MASTER_KEY"])
            needles = {
                "subject id (text)": str(subject).encode(),
                "subject id (hex)": subject.hex.encode(),
                "subject id (bytes)": subject.bytes,
                "analytics pseudonym": subject_pseudonyms(vault, subject, datetime.now(UTC).date())[0].encode(),
            }
            assert await scan_tables(database, needles) == []
        finally:
            await database.dispose()


def _children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (``/proc``; a zombie has ended)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while listed
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


async def test_api_processes_end_with_their_supervisor_and_a_restart_serves(
    tmp_path: Path, postgres_url: str, private_redis: PrivateRedis
) -> None:
    """``serve --workers 2`` killed with SIGKILL (the machine's OOM killer, an operator's ``kill -9``): its API
    processes must not live on as orphans holding the port, serving without a supervisor, and refusing the restart
    ("Address already in use"). Each API process asks the kernel for SIGTERM when its parent dies, so it finishes the
    requests in flight and ends; the same command started again serves."""
    settings = {
        "DREAMINA_DATA_DIR": str(tmp_path / "data"),
        "DREAMINA_DATABASE_URL": postgres_url,
        "DREAMINA_QUEUE": "saq",
        "DREAMINA_REDIS_URL": private_redis.url,
        "DREAMINA_PORT": str(free_port()),
    }
    port = int(settings["DREAMINA_PORT"])
    first = start("serve", settings, tmp_path / "serve-1.log", "--workers", "2")
    try:
        deadline = time.monotonic() + WAIT
        while not (_answers(port) and len(_children(first.pid)) >= 2):
            assert first.poll() is None and time.monotonic() < deadline, tail(tmp_path / "serve-1.log")
            await asyncio.sleep(0.2)
        api_processes = _children(first.pid)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(_running(pid) for pid in api_processes):
            assert time.monotonic() < deadline, "API processes outlived their killed supervisor"
            await asyncio.sleep(0.2)
        assert not _answers(port), "something still serves the killed server's port"
    finally:
        for pid in _children(first.pid) | set(locals().get("api_processes", ())):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    second = start("serve", settings, tmp_path / "serve-2.log", "--workers", "2")
    try:
        deadline = time.monotonic() + WAIT
        while not _answers(port):
            assert second.poll() is None, f"the restart exited:\n{tail(tmp_path / 'serve-2.log')}"
            assert time.monotonic() < deadline, tail(tmp_path / "serve-2.log")
            await asyncio.sleep(0.2)
    finally:
        assert stop(second) == 0
