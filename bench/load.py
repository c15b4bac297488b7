"""Load benchmark: the real server under a mixed workload, as users feel it (issue 13's "Done when" figures).

Each profile is started as real processes from a fresh data directory:

- ``embedded``: ``dreamina serve`` alone (SQLite file, in-process job queue, local objects), the README's run command;
- ``postgres``: ``dreamina serve`` + ``dreamina worker`` (SAQ on Redis) + ``dreamina privacy-worker`` on PostgreSQL
  (needs DREAMINA_BENCH_POSTGRES_URL, a database this benchmark may empty, and DREAMINA_BENCH_REDIS_URL).

Phases, per profile:

1. ``burst``: 200 consent writes from 10 subjects all at once (a withdrawal must never be refused);
2. ``mix``: N clients for a fixed duration, each looping over a weighted mix of reads and writes (``/v1/me``,
   generations list and submit, consent read and write, analytics batches, sign-ups);
3. ``drain``: every generation the server accepted must end (succeeded, or failed with its credits refunded);
4. ``export``: one export request, identity proven, timed until ``completed``.

Prints per route: requests, req/s, p50/p99 latency and answers by status; then the 5xx total, jobs that did not end
and the export's time. The load generator is one asyncio process with a pooled httpx client; on 2 cores it shares
the machine with the server, so the figures are a floor, compared run to run. Rate limits and the welcome grant are
product rules, not costs: the benchmark lifts them (``bench/common.py``) so it measures the code path.

    .venv/bin/python bench/load.py [--clients 40] [--seconds 45] [--profile embedded|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import UNLIMITED, Processes, free_port, wait_until_up

PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark account's password
TERMINAL = {"succeeded", "failed", "canceled"}
MIX: list[tuple[str, int]] = [  # (operation, weight)
    ("GET /v1/me", 25),
    ("GET /v1/generations", 15),
    ("POST /v1/generations", 10),
    ("GET /v1/consent", 10),
    ("PUT /v1/consent", 20),
    ("POST /v1/analytics/events", 15),
    ("POST /v1/accounts", 5),
]


@dataclass
class Tally:
    """Latencies and statuses per route; the ids of accepted generations."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    accepted: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    no_answer: Counter[str] = field(default_factory=Counter)  # "route: ReadError" for each status 599

    def record(self, route: str, started: float, status: int) -> None:
        self.latencies[route].append(time.perf_counter() - started)
        self.statuses[route][status] += 1

    def errors_5xx(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500)


def _environment(profile: str, work: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env.update(UNLIMITED)
    env.update(
        {
            "DREAMINA_PORT": str(port),
            "DREAMINA_DATA_DIR": str(work / "data"),
            "DREAMINA_ARGON2_MEMORY_KIB": "8192",  # Argon2's cost is bench/identity.py's subject, not this one's
            "DREAMINA_LOG_LEVEL": "WARNING",
        }
    )
    if profile == "postgres":
        env.update(
            {
                "DREAMINA_DATABASE_URL": os.environ["DREAMINA_BENCH_POSTGRES_URL"],
                "DREAMINA_REDIS_URL": os.environ["DREAMINA_BENCH_REDIS_URL"],
                "DREAMINA_QUEUE": "saq",
            }
        )
    return env


def _sign_up_body(email: str) -> dict[str, Any]:
    return {
        "email": email,
        "password": PASSWORD,
        "birth_date": "1990-01-01",
        "country": "DE",
        "accept_policy_version": 1,
    }


async def _subject(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    created = await client.post("/v1/accounts", json=_sign_up_body(email))
    assert created.status_code == 201, created.text
    token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _call(client: httpx.AsyncClient, tally: Tally, route: str, headers: dict[str, str], n: int) -> None:
    method, path = route.split(" ", 1)
    body: Any = None
    if route == "POST /v1/generations":
        body = {"kind": "image", "prompt": f"a lighthouse at dusk, variation {n}"}
    elif route == "PUT /v1/consent":
        body = {"functional": True, "analytics": n % 2 == 0, "marketing": False, "method": "settings"}
    elif route == "POST /v1/analytics/events":
        body = {"events": [{"name": "page_view", "page": f"/gallery/{i}"} for i in range(10)]}
    elif route == "POST /v1/accounts":
        body = _sign_up_body(f"load-{n}-{random.getrandbits(48):x}@example.com")
    started = time.perf_counter()
    try:
        answer = await client.request(method, path, json=body, headers=headers)
        status = answer.status_code
    except httpx.TransportError as error:
        status = 599  # no answer at all counts against the server
        tally.no_answer[f"{route}: {type(error).__name__}"] += 1
    tally.record(route, started, status)
    if route == "POST /v1/generations" and status == 202:
        tally.accepted.append((answer.json()["id"], headers))


async def _burst(client: httpx.AsyncClient, subjects: list[dict[str, str]], tally: Tally) -> None:
    writes = [(headers, i) for i in range(20) for headers in subjects]
    await asyncio.gather(*(_call(client, tally, "PUT /v1/consent", h, i) for h, i in writes))


async def _mix(
    client: httpx.AsyncClient, subjects: list[dict[str, str]], clients: int, seconds: float, tally: Tally
) -> float:
    routes, weights = zip(*MIX, strict=True)
    stop = time.monotonic() + seconds

    async def one_client(c: int) -> None:
        rng, n = random.Random(c), 0
        headers = subjects[c % len(subjects)]
        while time.monotonic() < stop:
            n += 1
            await _call(client, tally, rng.choices(routes, weights)[0], headers, c * 1_000_000 + n)

    started = time.monotonic()
    await asyncio.gather(*(one_client(c) for c in range(clients)))
    return time.monotonic() - started


async def _drain(client: httpx.AsyncClient, tally: Tally, limit_seconds: float) -> tuple[Counter[str], float]:
    """Waits until every accepted generation has ended; returns the final states and the wait."""
    started = time.monotonic()
    pending = dict(tally.accepted)
    ended: Counter[str] = Counter()
    while pending and time.monotonic() - started < limit_seconds:
        for generation_id, headers in list(pending.items()):
            answer = await client.get(f"/v1/generations/{generation_id}", headers=headers)
            status = answer.json().get("status") if answer.status_code == 200 else None
            if status in TERMINAL:
                ended[status] += 1
                del pending[generation_id]
        if pending:
            await asyncio.sleep(1)
    ended["not ended"] = len(pending)
    return ended, time.monotonic() - started


async def _export(client: httpx.AsyncClient, headers: dict[str, str]) -> float | None:
    """Seconds from proof to a completed export (an unverified account proves with its password)."""
    accepted = await client.post("/v1/privacy/requests", json={"type": "export"}, headers=headers)
    assert accepted.status_code == 202, accepted.text
    request_id = accepted.json()["id"]
    started = time.monotonic()
    proof = {"password": PASSWORD}
    proven = await client.post(f"/v1/privacy/requests/{request_id}/verify", json=proof, headers=headers)
    assert proven.status_code == 200, proven.text
    while time.monotonic() - started < 120:
        answer = await client.get(f"/v1/privacy/requests/{request_id}", headers=headers)
        if answer.json()["status"] == "completed":
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    return None


def _report(profile: str, phase: str, tally: Tally, seconds: float) -> None:
    print(f"\n{profile} — {phase} ({seconds:.1f} s)")
    print(f"  {'route':28} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for route in sorted(tally.latencies):
        lat = sorted(tally.latencies[route])
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        statuses = " ".join(f"{s}x{n}" for s, n in sorted(tally.statuses[route].items()))
        print(f"  {route:28} {len(lat):8d} {len(lat) / seconds:8.1f} {p50:8.1f} {p99:8.1f}  {statuses}")
    total = sum(len(v) for v in tally.latencies.values())
    print(f"  {'all':28} {total:8d} {total / seconds:8.1f}   5xx: {tally.errors_5xx()}")
    for what, count in sorted(tally.no_answer.items()):
        print(f"  no answer (599), {what}: {count}")


async def _profile(profile: str, clients: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work, port = Path(tmp), free_port()
        processes = Processes(work, _environment(profile, work, port))
        if profile == "postgres":
            processes.run("db", "upgrade")
            processes.start("worker")
            processes.start("privacy-worker")
        processes.start("serve")
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_until_up(base)
            limits = httpx.Limits(max_connections=clients + 20, max_keepalive_connections=clients + 20)
            async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
                subjects = [await _subject(client, f"subject-{i}@example.com") for i in range(10)]
                burst = Tally()
                started = time.monotonic()
                await _burst(client, subjects, burst)
                took = time.monotonic() - started
                _report(profile, "burst: 200 consent writes from 10 subjects at once", burst, took)
                mix = Tally()
                took = await _mix(client, subjects, clients, seconds, mix)
                _report(profile, f"mix: {clients} clients", mix, took)
                ended, waited = await _drain(client, mix, limit_seconds=180)
                print(f"  accepted generations: {len(mix.accepted)}, ended after {waited:.1f} s: {dict(ended)}")
                export = await _export(client, subjects[0])
                print(f"  export completed in {export:.1f} s" if export is not None else "  export NOT completed")
                return {
                    "5xx": burst.errors_5xx() + mix.errors_5xx(),
                    "not_ended": ended["not ended"],
                    "export_seconds": export,
                }
        finally:
            processes.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--profile", choices=["embedded", "postgres", "both"], default="both")
    args = parser.parse_args()
    profiles = ["embedded", "postgres"] if args.profile == "both" else [args.profile]
    if "postgres" in profiles and not (
        os.environ.get("DREAMINA_BENCH_POSTGRES_URL") and os.environ.get("DREAMINA_BENCH_REDIS_URL")
    ):
        print("postgres  skipped (set DREAMINA_BENCH_POSTGRES_URL and DREAMINA_BENCH_REDIS_URL)")
        profiles.remove("postgres")
    print(f"Load: {args.clients} clients for {args.seconds:.0f} s per profile, real processes")
    failed = False
    for profile in profiles:
        outcome = asyncio.run(_profile(profile, args.clients, args.seconds))
        failed |= outcome["5xx"] > 0 or outcome["not_ended"] > 0 or outcome["export_seconds"] is None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
