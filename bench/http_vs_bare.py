"""HTTP benchmark: the real server against a bare Litestar + asyncpg app, side by side, driven by wrk (issue 14).

Starts, in one run and against the same PostgreSQL:

- the service: ``dreamina serve`` as a real process, on PostgreSQL and Redis (per-client budgets and the sign-in
  throttle in Redis, generation jobs queued on SAQ), at the default log level (one access-log line per request,
  written to a file as production writes it to stdout) and the default Argon2id cost. No ``dreamina worker`` runs:
  submitted generations stay queued, so rendering never competes with the API for the cores;
- the bare app (``bench/bare_app.py``): Litestar + msgspec + a raw asyncpg pool, one uvicorn process with the same
  server settings as ``dreamina serve`` (uvloop and httptools).

Then drives each pair of routes with ``wrk`` (16 connections, 2 threads, ``--seconds`` per route and app) for
``--rounds`` interleaved rounds: service and bare back to back, the order flipped every round, so the noise of a shared
machine hits both alike. The ratios, medians of the per-round ratios, are the figures to compare; the absolute
req/s depend on the machine and what else runs on it. The pairs (service vs bare):

- ``health``: ``GET /health`` vs ``GET /hello`` (no database);
- ``me``: ``GET /v1/me`` vs a primary-key ``SELECT``;
- ``generations``: ``GET /v1/generations`` (a full first page of 20) vs a primary-key ``SELECT``;
- ``page``: ``GET /v1/generations`` again, vs the bare app's own page of the same 20 rows (its ``GET /pages/{subject}``:
  the same read, each prompt opened with AES-GCM, the same list shape): how far the service's page is from the bare
  stack's. Not one of issue 14's targets;
- ``floor``: the bare app against itself, its page of 20 vs its primary-key ``SELECT``: what a page costs the bare
  stack alone, the ceiling of any service's ``generations`` ratio on this stack. Not one of issue 14's targets;
- ``consent``: ``PUT /v1/consent`` vs a one-row ``INSERT``;
- ``analytics``: ``POST /v1/analytics/events`` (10 events, analytics consent given, so all are stored) vs a one-row
  ``INSERT``;
- ``submit``: ``POST /v1/generations`` (an image; the welcome grant lifted so no submission is refused) vs a one-row
  ``INSERT``;
- ``token``: ``POST /v1/auth/token`` (no device cookie: a sign-in from a new browser) vs Argon2id's own verify at the
  configured cost (argon2-cffi's ``PasswordHasher.verify`` in as many threads as the service's default executor, where
  the service runs it, measured in this process in the same rounds): the service's time per request against
  Argon2id's. Sign-ins are driven by an async client in this process (16 at once), not wrk: at a few per second, wrk
  would count only those that end within its time and undercount by the 16 in flight; the client awaits them, as the
  Argon2id measurement does.

Requests spread over ``--users`` signed-in subjects (each with its bearer token and its device cookie, as a browser
sends them). Rate limits, the sign-in throttle's count and the welcome grant are product rules, not costs: the
benchmark lifts them by settings (``bench/common.py``'s ``UNLIMITED`` and ``DREAMINA_LOGIN_MAX_FAILURES``), so every
request takes the full code path (the budgets are still counted in Redis) and none is answered 429.

Prints per route req/s, p50 and p99 for both, the ratio (service/bare req/s), the p99 ratio, the answers that were not
2xx, the CPU the server and its load generator used (well below a core: the generator is not the bottleneck), and
issue 14's targets with PASS/MISS (a MISS is reported, not failed). Exits 1 if any answer was a 5xx. (wrk's req/s
counts the requests that end within its time: a slow route loses about its p50 of the run's start, a few percent at
8 s and 200 ms, to the service's cost.)

Needs ``wrk`` (``apt-get install -y wrk``; ``bench/run`` installs it), DREAMINA_BENCH_POSTGRES_URL (a database it may
write to; ``bench/run`` makes a fresh one) and DREAMINA_BENCH_REDIS_URL (a Redis database it may fill).

    .venv/bin/python bench/http_vs_bare.py [--routes me,consent] [--seconds 8] [--rounds 3] [--users 16]

(Not ``bench/http.py``: a script's folder comes first on ``sys.path``, so a ``bench/http.py`` would shadow the
standard library's ``http`` package for every script in ``bench/`` and break httpx, uvicorn and Litestar there.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import argon2
import asyncpg
import httpx
from bare_app import PAGE_SUBJECTS
from common import UNLIMITED, Processes, free_port, wait_until_up

from dreamina.settings import load_settings

BENCH = Path(__file__).resolve().parent
PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark account's password
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
SEEDED_GENERATIONS = 20  # a full first page of GET /v1/generations
CONSENT = {"functional": True, "analytics": True, "marketing": False, "method": "settings"}
EVENTS = {"events": [{"name": "page_view", "page": f"/gallery/{i}"} for i in range(10)]}
SUBMISSION = {"kind": "image", "prompt": "a lighthouse at dusk, oil on canvas", "params": {"aspect_ratio": "1:1"}}
READ, WRITE = 0.5, 0.35  # issue 14's "Done when": req/s ratios to the bare read and the bare insert
P99_BOUND = 4.0  # the service's p99 under 4x the bare p99
TOKEN_BOUND = 1.2  # POST /v1/auth/token within 1.2x of Argon2id's verify time per request


@dataclass(frozen=True)
class Pair:
    key: str
    service: str
    baseline: str
    min_ratio: float | None = None  # the target for req/s ratio, where it sets one
    p99_bound: float | None = None
    both_bare: bool = False  # both sides on the bare app (the floor): its first route in the service's place


PAIRS = [
    Pair("health", "GET /health", "GET /hello (no database)"),
    Pair("me", "GET /v1/me", "GET /rows/{id}: primary-key SELECT", READ, P99_BOUND),
    Pair("generations", "GET /v1/generations", "GET /rows/{id}: primary-key SELECT", READ, P99_BOUND),
    Pair("page", "GET /v1/generations", "GET /pages/{s}: the bare page of 20"),
    Pair("floor", "bare GET /pages/{s} (20)", "GET /rows/{id}: primary-key SELECT", both_bare=True),
    Pair("consent", "PUT /v1/consent", "PUT /rows: one-row INSERT", WRITE, P99_BOUND),
    Pair("analytics", "POST /v1/analytics/events (10)", "POST /rows: one-row INSERT", WRITE, P99_BOUND),
    Pair("submit", "POST /v1/generations", "POST /rows: one-row INSERT"),
    Pair("token", "POST /v1/auth/token", "Argon2id verify alone"),
]
BY_KEY = {p.key: p for p in PAIRS}


@dataclass(frozen=True)
class User:
    email: str
    token: str
    device_cookie: str
    bare_subject: str  # a UUID for the bare app's rows (the bare app knows nothing of accounts)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


@dataclass
class Sample:
    """One wrk run (or one Argon2 run): throughput, latency, answers, CPU."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: int = 0
    server_cpu: float | None = None  # share of one core the server used
    wrk_cpu: float | None = None  # share of one core wrk used


# --- the calls -----------------------------------------------------------------------------------------------------


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def service_calls(key: str, users: list[User]) -> list[Call]:
    def signed_in(u: User, body: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {u.token}", "Cookie": f"dreamina_device={u.device_cookie}"}
        return {**headers, "Content-Type": "application/json"} if body else headers

    if key == "health":
        return [Call("GET", "/health", {})]
    if key == "floor":  # the bare app's page, in the service's place
        return bare_calls("page", users)
    if key == "me":
        return [Call("GET", "/v1/me", signed_in(u)) for u in users]
    if key in ("generations", "page"):
        return [Call("GET", "/v1/generations", signed_in(u)) for u in users]
    if key == "consent":
        return [Call("PUT", "/v1/consent", signed_in(u, True), _json(CONSENT)) for u in users]
    if key == "analytics":
        return [Call("POST", "/v1/analytics/events", signed_in(u, True), _json(EVENTS)) for u in users]
    if key == "submit":
        return [Call("POST", "/v1/generations", signed_in(u, True), _json(SUBMISSION)) for u in users]
    raise ValueError(key)


def bare_calls(key: str, users: list[User]) -> list[Call]:
    json_body = {"Content-Type": "application/json"}
    if key == "health":
        return [Call("GET", "/hello", {})]
    if key in ("me", "generations", "floor"):
        return [Call("GET", f"/rows/{i + 1}", {}) for i in range(len(users))]
    if key == "page":  # the bare app seeds more subjects with a page than the benchmark signs up
        return [Call("GET", f"/pages/{i % PAGE_SUBJECTS + 1}", {}) for i in range(len(users))]
    method, name = {"consent": ("PUT", "consent"), "analytics": ("POST", "page_view"), "submit": ("POST", "image")}[key]
    return [
        Call(method, "/rows", json_body, _json({"subject": u.bare_subject, "name": name, "page": "/gallery/1"}))
        for u in users
    ]


# --- wrk -----------------------------------------------------------------------------------------------------------

LUA = """-- written by bench/http_vs_bare.py: cycles through prepared requests, counts answers by status
local calls = {CALLS}
local prepared = {}
local position = 0
local threads = {}
statuses = {}

function setup(thread)
  thread:set("first", #threads * 7)  -- each thread starts elsewhere in the cycle
  table.insert(threads, thread)
end

function init(args)
  for i, call in ipairs(calls) do
    prepared[i] = wrk.format(call.method, call.path, call.headers, call.body)
  end
  position = (first or 0) % #prepared
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do merged[status] = (merged[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', status, n) end
  local e = summary.errors
  local out = io.open({OUT}, "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "socket_errors": %d, "statuses": {%s}}',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
  out:close()
end
"""


def _lua(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _lua_call(call: Call) -> str:
    headers = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in {"User-Agent": USER_AGENT, **call.headers}.items())
    body = f", body = {_lua(call.body)}" if call.body is not None else ""
    return f"{{method = {_lua(call.method)}, path = {_lua(call.path)}, headers = {{{headers}}}{body}}}"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Load:
    connections: int
    threads: int
    timeout_seconds: int = 30


def run_wrk(base: str, server_pid: int, calls: list[Call], seconds: float, load: Load, work: Path) -> Sample:
    out = work / f"wrk-{secrets.token_hex(4)}.json"
    script = work / f"wrk-{secrets.token_hex(4)}.lua"
    table = "{\n  " + ",\n  ".join(_lua_call(c) for c in calls) + "\n}"
    script.write_text(LUA.replace("{CALLS}", table).replace("{OUT}", _lua(str(out))))
    command = [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={load.timeout_seconds}s",
        "-s",
        str(script),
        base,
    ]
    server_before, wrk_before, started = _cpu_seconds(server_pid), _children_cpu(), time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    server_cpu, wrk_cpu = _cpu_seconds(server_pid) - server_before, _children_cpu() - wrk_before
    if finished.returncode != 0 or not out.exists():
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stderr.strip() or finished.stdout.strip()}")
    found = json.loads(out.read_text())
    out.unlink()
    script.unlink()
    duration = found["duration_us"] / 1e6
    return Sample(
        rps=found["requests"] / duration,
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        requests=found["requests"],
        statuses=Counter({int(k): v for k, v in found["statuses"].items()}),
        socket_errors=found["socket_errors"],
        server_cpu=server_cpu / elapsed,
        wrk_cpu=wrk_cpu / elapsed,
    )


# --- sign-ins: an async load generator ----------------------------------------------------------------------------


async def _sign_ins(base: str, users: list[User], seconds: float, connections: int) -> tuple[Sample, float]:
    """``connections`` clients signing in back to back until ``seconds`` have passed, then every sign-in in flight
    awaited and counted: throughput over the whole time, as Argon2id alone is measured (wrk counts only what ends
    within its time, which at a few sign-ins per second with 16 in flight would undercount badly). Returns the
    sample and the CPU this process spent (a share of one core: the generator is not the bottleneck)."""
    bodies = [_json({"email": u.email, "password": PASSWORD}).encode() for u in users]
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:
        deadline = time.perf_counter() + seconds

        async def client_loop(first: int) -> None:
            nonlocal errors
            n = first
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    answer = await client.post("/v1/auth/token", content=bodies[n % len(bodies)], headers=headers)
                    statuses[answer.status_code] += 1
                    latencies.append(time.perf_counter() - started)
                except httpx.TransportError:
                    errors += 1
                n += 1

        cpu_before, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client_loop(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
        cpu = (time.process_time() - cpu_before) / elapsed
    latencies.sort()
    return (
        Sample(
            rps=len(latencies) / elapsed,
            p50_ms=statistics.median(latencies) * 1000 if latencies else float("nan"),
            p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else float("nan"),
            requests=len(latencies),
            statuses=statuses,
            socket_errors=errors,
        ),
        cpu,
    )


def sign_ins(base: str, pid: int, users: list[User], seconds: float, load: Load) -> Sample:
    server_before, started = _cpu_seconds(pid), time.perf_counter()
    sample, generator_cpu = asyncio.run(_sign_ins(base, users, seconds, load.connections))
    sample.server_cpu = (_cpu_seconds(pid) - server_before) / (time.perf_counter() - started)
    sample.wrk_cpu = generator_cpu
    return sample


# --- Argon2id alone ------------------------------------------------------------------------------------------------


def executor_threads() -> int:
    """The size of asyncio's default executor, where the service runs Argon2 (``asyncio.to_thread``)."""
    return min(32, (os.cpu_count() or 1) + 4)


@dataclass(frozen=True)
class Argon2Cost:
    time_cost: int
    memory_kib: int

    def hasher(self) -> argon2.PasswordHasher:  # the parameters of adapters/passwords.py
        return argon2.PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=1, type=argon2.Type.ID
        )


def argon2_alone(cost: Argon2Cost, seconds: float, threads: int) -> Sample:
    """Verifies per second with ``threads`` threads verifying back to back for ``seconds``; latency per verify."""
    hasher = cost.hasher()
    encoded = hasher.hash(PASSWORD)
    deadline = time.perf_counter() + seconds

    def verify_until_deadline() -> list[float]:
        took = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            hasher.verify(encoded, PASSWORD)
            took.append(time.perf_counter() - started)
        return took

    cpu_before, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        durations = sorted(d for f in [pool.submit(verify_until_deadline) for _ in range(threads)] for d in f.result())
    elapsed = time.perf_counter() - started
    return Sample(
        rps=len(durations) / elapsed,
        p50_ms=statistics.median(durations) * 1000,
        p99_ms=durations[min(len(durations) - 1, int(len(durations) * 0.99))] * 1000,
        requests=len(durations),
        statuses=Counter({200: len(durations)}),
        server_cpu=(time.process_time() - cpu_before) / elapsed,
    )


def argon2_one_at_a_time(cost: Argon2Cost, calls: int = 5) -> float:
    """Milliseconds of one verify on an otherwise idle process (median of ``calls``)."""
    hasher = cost.hasher()
    encoded = hasher.hash(PASSWORD)
    took = []
    for _ in range(calls):
        started = time.perf_counter()
        hasher.verify(encoded, PASSWORD)
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


# --- the service: processes, subjects ------------------------------------------------------------------------------


def service_environment(work: Path, port: int, log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env.update(UNLIMITED)
    env.update(
        {
            "DREAMINA_PORT": str(port),
            "DREAMINA_DATA_DIR": str(work / "data"),
            "DREAMINA_DATABASE_URL": os.environ["DREAMINA_BENCH_POSTGRES_URL"],
            "DREAMINA_REDIS_URL": os.environ["DREAMINA_BENCH_REDIS_URL"],
            "DREAMINA_QUEUE": "saq",
            "DREAMINA_LOG_LEVEL": log_level,
            # The sign-in throttle counts checks per address and resets on success; concurrent sign-ins of one
            # address could pass the default 5 between a check and its reset. Still counted in Redis.
            "DREAMINA_LOGIN_MAX_FAILURES": "100000000",
        }
    )
    return env


def _device_cookie(answer: httpx.Response) -> str:
    for header in answer.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "dreamina_device":
            return rest.split(";", 1)[0]
    raise SystemExit("PUT /v1/consent set no device cookie")


async def _subject(base: str, email: str) -> User:
    # One client per subject: a shared client's cookie jar would carry one subject's device cookie to the others.
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        sign_up = {
            "email": email,
            "password": PASSWORD,
            "birth_date": "1990-01-01",
            "country": "DE",
            "accept_policy_version": 1,
        }
        created = await client.post("/v1/accounts", json=sign_up)
        assert created.status_code == 201, created.text
        issued = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
        chosen = await client.put("/v1/consent", json=CONSENT, headers=headers)
        assert chosen.status_code == 200 and chosen.json()["analytics"], chosen.text
        cookie = _device_cookie(chosen)
        client.cookies.clear()
        headers["Cookie"] = f"dreamina_device={cookie}"
        ingested = await client.post("/v1/analytics/events", json=EVENTS, headers=headers)
        assert ingested.status_code == 200 and ingested.json()["recorded"] == 10, ingested.text
        for _ in range(SEEDED_GENERATIONS):
            submitted = await client.post("/v1/generations", json=SUBMISSION, headers=headers)
            assert submitted.status_code == 202, submitted.text
        return User(email, token, cookie, str(uuid.uuid4()))


async def prepare_subjects(base: str, count: int) -> list[User]:
    run = secrets.token_hex(4)
    gate = asyncio.Semaphore(4)  # sign-ups hash with Argon2id at full cost

    async def one(i: int) -> User:
        async with gate:
            return await _subject(base, f"http-{run}-{i}@example.com")

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _stored(dsn: str) -> tuple[int, int]:
    connection = await asyncpg.connect(dsn)
    try:
        events = await connection.fetchval("SELECT count(*) FROM analytics_events")
        generations = await connection.fetchval("SELECT count(*) FROM generations")
    finally:
        await connection.close()
    return int(events), int(generations)


def check_stored(dsn: str, figures: dict[str, Figures], users: int) -> None:
    """The writes measured were the real ones: every accepted analytics event and generation is in the database
    (a few more may be: wrk does not count answers that arrive after its time)."""
    events, generations = asyncio.run(_stored(dsn))

    def accepted(key: str, status: int) -> int:
        return figures[key].statuses()[status] if key in figures else 0

    want_events = 10 * (users + accepted("analytics", 200))
    want_generations = SEEDED_GENERATIONS * users + accepted("submit", 202)
    for what, stored, wanted in (
        ("analytics events", events, want_events),
        ("generations", generations, want_generations),
    ):
        verdict = "ok" if stored >= wanted else "FEWER THAN ACCEPTED"
        print(f"{what} in the database: {stored:,} (accepted in answers: {wanted:,}) {verdict}")


# --- the run -------------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    service: list[Sample] = field(default_factory=list)
    bare: list[Sample] = field(default_factory=list)
    warmup: list[Sample] = field(default_factory=list)
    bare_warmup: list[Sample] = field(default_factory=list)
    argon2_single_ms: list[float] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [s.rps / b.rps for s, b in zip(self.service, self.bare, strict=True)]

    def p99_ratios(self) -> list[float]:
        return [s.p99_ms / b.p99_ms for s, b in zip(self.service, self.bare, strict=True)]

    def statuses(self, bare: bool = False) -> Counter[int]:
        total: Counter[int] = Counter()
        for sample in [*self.bare, *self.bare_warmup] if bare else [*self.service, *self.warmup]:
            total.update(sample.statuses)
        return total


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _cpu(samples: list[Sample], which: str) -> str:
    values = [getattr(s, which) for s in samples if getattr(s, which) is not None]
    return f"{_median(values) * 100:.0f}%" if values else "-"


def _answers(statuses: Counter[int], socket_errors: int) -> str:
    """The answers that were not 2xx, by status, and the requests that got no answer."""
    odd = {s: n for s, n in sorted(statuses.items()) if not 200 <= s < 300}
    text = str(sum(odd.values())) + (" (" + ", ".join(f"{s}: {n}" for s, n in odd.items()) + ")" if odd else "")
    return text + (f", {socket_errors} socket errors/timeouts" if socket_errors else "")


def headline(pair: Pair, f: Figures) -> list[float]:
    """Per round: the service's req/s over the bare app's; for the token, the service's time per request over
    Argon2id's (its verifies/s over the service's sign-ins/s)."""
    if pair.key == "token":
        return [b.rps / s.rps for s, b in zip(f.service, f.bare, strict=True)]
    return f.ratios()


def report(pairs: list[Pair], figures: dict[str, Figures], cost: Argon2Cost) -> int:
    print(
        f"\n{'route':31} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} | {'baseline':35} {'req/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} | {'ratio':>6} {'p99 x':>6} | non-2xx (service)"
    )
    failed = 0
    for pair in pairs:
        f = figures[pair.key]
        statuses, bare_statuses = f.statuses(), f.statuses(bare=True)
        failed += sum(n for s, n in [*statuses.items(), *bare_statuses.items()] if s >= 500)
        socket_errors = sum(s.socket_errors for s in [*f.service, *f.warmup])
        ratio = _median(headline(pair, f))
        ratio_text = f"{ratio:.2f}x" if pair.key == "token" else f"{ratio:.3f}"
        p99_text = "-" if pair.key == "token" else f"{_median(f.p99_ratios()):.1f}x"
        print(
            f"{pair.service:31} {_median([s.rps for s in f.service]):8,.1f} "
            f"{_median([s.p50_ms for s in f.service]):7.1f} {_median([s.p99_ms for s in f.service]):7.1f} | "
            f"{pair.baseline:35} {_median([s.rps for s in f.bare]):8,.1f} "
            f"{_median([s.p50_ms for s in f.bare]):7.1f} {_median([s.p99_ms for s in f.bare]):7.1f} | "
            f"{ratio_text:>6} {p99_text:>6} | {_answers(statuses, socket_errors)}"
        )
        bare_odd = sum(n for s, n in bare_statuses.items() if not 200 <= s < 300)
        bare_errors = sum(s.socket_errors for s in [*f.bare, *f.bare_warmup])
        if bare_odd or bare_errors:
            print(f"{'':31} the bare app's non-2xx: {_answers(bare_statuses, bare_errors)}")
    print("\nratio per round (service/bare req/s; token: the service's time per request over Argon2id's):")
    for pair in pairs:
        print(f"  {pair.service:31} " + "  ".join(f"{r:.3f}" for r in headline(pair, figures[pair.key])))
    print("\nCPU in shares of one core, median over rounds (the load generators well below a core: not the limit):")
    print(f"  {'route':31} {'service':>8} {'its wrk':>8} {'bare':>8} {'its wrk':>8}   (token: async client, Argon2id)")
    for pair in pairs:
        f = figures[pair.key]
        bare_wrk = "-" if pair.key == "token" else _cpu(f.bare, "wrk_cpu")
        print(
            f"  {pair.service:31} {_cpu(f.service, 'server_cpu'):>8} {_cpu(f.service, 'wrk_cpu'):>8} "
            f"{_cpu(f.bare, 'server_cpu'):>8} {bare_wrk:>8}"
        )
    if "token" in figures:
        f = figures["token"]
        verifies = _median([s.rps for s in f.bare])
        sign_ins = _median([s.rps for s in f.service])
        print(
            f"\nArgon2id at the configured cost (t={cost.time_cost}, m={cost.memory_kib} KiB, p=1): one verify alone "
            f"{_median(f.argon2_single_ms):.0f} ms; {executor_threads()} threads (the size of the service's executor) "
            f"verifying back to back: {verifies:.1f}/s, {1000 / verifies:.0f} ms of the machine per verify. "
            f"The service: {sign_ins:.1f} sign-ins/s, {1000 / sign_ins:.0f} ms per sign-in."
        )
    print("\nTargets (issue 14; reported, not enforced):")
    for pair in pairs:
        ratio = _median(headline(pair, figures[pair.key]))
        if pair.key == "token":
            verdict = "PASS" if ratio <= TOKEN_BOUND else "MISS"
            print(f"  {pair.service:31} time per request {ratio:.2f}x Argon2id's, target <= {TOKEN_BOUND}x: {verdict}")
        elif pair.min_ratio is not None and pair.p99_bound is not None:
            p99 = _median(figures[pair.key].p99_ratios())
            print(
                f"  {pair.service:31} req/s ratio {ratio:.3f}, target >= {pair.min_ratio}: "
                f"{'PASS' if ratio >= pair.min_ratio else 'MISS'};  p99 {p99:.1f}x the bare p99, target < "
                f"{pair.p99_bound:g}x: {'PASS' if p99 < pair.p99_bound else 'MISS'}"
            )
    if "floor" in figures:
        floor = _median(figures["floor"].ratios())
        print(
            f"\nThe floor: the bare app's own page of 20 over its primary-key read, req/s {floor:.3f}: what the page "
            "alone costs this stack against that read, before any of a service's own work."
        )
    print(f"\n5xx answers: {failed}")
    return 1 if failed else 0


@dataclass(frozen=True)
class Run:
    """The two apps under test and what every measurement needs."""

    service: str
    bare: str
    service_pid: int
    bare_pid: int
    users: list[User]
    load: Load
    work: Path
    cost: Argon2Cost
    profile: Path | None = None  # --profile: py-spy's raw stacks of the service, one file per route


def _profiled(run: Run, key: str, seconds: float) -> subprocess.Popen[bytes] | None:
    """py-spy recording the service for ``seconds`` (``--profile``), or None."""
    if run.profile is None:
        return None
    run.profile.mkdir(parents=True, exist_ok=True)
    out = run.profile / f"{key}-{secrets.token_hex(2)}.raw"
    command = ["py-spy", "record", "--pid", str(run.service_pid), "--duration", str(max(1, round(seconds)))]
    return subprocess.Popen([*command, "--rate", "200", "--format", "raw", "--nonblocking", "-o", str(out)])


def _measure_pair(pair: Pair, figures: Figures, service_first: bool, run: Run, seconds: float, warmup: bool) -> None:
    """One round of one pair: service and bare back to back, in the order given."""

    def service() -> None:
        if pair.key == "token":
            sample = sign_ins(run.service, run.service_pid, run.users, seconds, run.load)
        else:
            calls = service_calls(pair.key, run.users)
            base, pid = (run.bare, run.bare_pid) if pair.both_bare else (run.service, run.service_pid)
            spy = None if warmup or pair.both_bare else _profiled(run, pair.key, seconds)
            sample = run_wrk(base, pid, calls, seconds, run.load, run.work)
            if spy is not None:
                spy.wait(timeout=60)
        (figures.warmup if warmup else figures.service).append(sample)

    def bare() -> None:
        if pair.key == "token":
            if not warmup:
                figures.bare.append(argon2_alone(run.cost, seconds, executor_threads()))
                figures.argon2_single_ms.append(argon2_one_at_a_time(run.cost))
            return
        sample = run_wrk(run.bare, run.bare_pid, bare_calls(pair.key, run.users), seconds, run.load, run.work)
        (figures.bare_warmup if warmup else figures.bare).append(sample)

    for measure in (service, bare) if service_first else (bare, service):
        measure()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", default=",".join(BY_KEY), help=f"comma-separated, of: {', '.join(BY_KEY)}")
    parser.add_argument("--seconds", type=float, default=8, help="per route, app and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2, help="seconds per route and app before the first round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--users", type=int, default=16, help="signed-in subjects the requests spread over")
    parser.add_argument("--log-level", default="INFO", help="the service's DREAMINA_LOG_LEVEL (default: its default)")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the service with py-spy while it is measured (raw stacks per route into this folder; the "
        "sampling costs CPU, so the figures of a profiled run are not for comparison)",
    )
    args = parser.parse_args()
    keys = [k.strip() for k in args.routes.split(",") if k.strip()]
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown or not keys:
        parser.error(f"unknown routes {unknown}; choose from {', '.join(BY_KEY)}")
    pairs = [p for p in PAIRS if p.key in keys]
    if not (os.environ.get("DREAMINA_BENCH_POSTGRES_URL") and os.environ.get("DREAMINA_BENCH_REDIS_URL")):
        print("http  skipped (set DREAMINA_BENCH_POSTGRES_URL and DREAMINA_BENCH_REDIS_URL)")
        return 0
    if shutil.which("wrk") is None:
        print("http: wrk is not installed (apt-get install -y wrk; bench/run installs it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        return _run(args, pairs, work)


def _run(args: argparse.Namespace, pairs: list[Pair], work: Path) -> int:
    service_port, bare_port = free_port(), free_port()
    env = service_environment(work, service_port, args.log_level)
    settings = load_settings({k: v for k, v in env.items() if k.startswith("DREAMINA_")})
    cost = Argon2Cost(settings.argon2_time_cost, settings.argon2_memory_kib)
    processes = Processes(work, env)
    processes.run("db", "upgrade")
    dsn = os.environ["DREAMINA_BENCH_POSTGRES_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    service = processes.start("serve")
    bare = processes.start_command(
        "bare", [sys.executable, str(BENCH / "bare_app.py"), "--port", str(bare_port), "--dsn", dsn]
    )
    load = Load(args.connections, args.threads)
    try:
        base_service, base_bare = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{bare_port}"
        asyncio.run(wait_until_up(base_service))
        asyncio.run(wait_until_up(base_bare, "/hello"))
        print(
            f"HTTP: dreamina serve (PostgreSQL, Redis, SAQ; log level {args.log_level}) vs a bare Litestar + msgspec + "
            f"asyncpg app, both one uvicorn process (uvloop, httptools) on the same PostgreSQL; wrk -t{load.threads} "
            f"-c{load.connections}, {args.seconds:g} s per route and app, {args.rounds} round(s), service and bare "
            f"back to back, order flipped each round; {os.cpu_count()} cores, load average at start "
            f"{os.getloadavg()[0]:.2f}"
        )
        print(
            "On a shared machine the absolute figures are noisy; the interleaving makes noise hit both apps alike, "
            "so compare the ratios (medians of the per-round ratios)."
        )
        started = time.monotonic()
        users = asyncio.run(prepare_subjects(base_service, args.users))
        print(
            f"{len(users)} subjects signed up, analytics consent given, {SEEDED_GENERATIONS} generations each "
            f"({time.monotonic() - started:.0f} s)"
        )
        run = Run(base_service, base_bare, service.pid, bare.pid, users, load, work, cost, args.profile)
        figures = {p.key: Figures() for p in pairs}
        if args.warmup > 0:
            for pair in pairs:
                _measure_pair(pair, figures[pair.key], True, run, args.warmup, warmup=True)
        for round_number in range(args.rounds):
            for pair in pairs:
                _measure_pair(pair, figures[pair.key], round_number % 2 == 0, run, args.seconds, warmup=False)
            print(f"round {round_number + 1} of {args.rounds} done ({time.monotonic() - started:.0f} s)", flush=True)
        outcome = report(pairs, figures, cost)
        check_stored(dsn, figures, len(users))
        for name, process in (("serve", service), ("bare", bare)):
            if process.poll() is not None:
                print(f"{name} exited early ({process.returncode}); its log:\n{(work / f'{name}.log').read_text()}")
                outcome = 1
        return outcome
    finally:
        processes.stop()


if __name__ == "__main__":
    sys.exit(main())
