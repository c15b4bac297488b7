"""Scale-out benchmark (issue 14, item 3): the same service as one API process and as two, side by side in one run.

Starts, against the same PostgreSQL and Redis (production-like: budgets and the sign-in throttle in Redis, jobs on
SAQ, no ``dreamina worker``, so submitted generations stay queued and rendering never competes for the cores):

- ``dreamina serve --workers 1`` on one port, and
- ``dreamina serve --workers 2`` on another (uvicorn's supervisor and two API processes sharing that port),

then drives each route on each with ``wrk`` (16 connections, 2 threads, ``--seconds`` per route and server) for
``--rounds`` interleaved rounds, the order flipped every round so the noise of a shared machine hits both alike.
Requests spread over ``--users`` signed-in subjects, prepared as ``bench/http_vs_bare.py`` prepares them (same calls,
same lifted limits, same log level). Prints per route req/s and p50/p99 for 1 and 2 processes, the scaling ratio
(2 processes' req/s over 1's, median of the per-round ratios), the CPU each server's processes used and the machine's
busy share while it ran (``/proc/stat``: every core, PostgreSQL, Redis, wrk and whatever else runs included).

What the ratio can be: at most the number of cores the API processes can get. On a 2-core machine the API shares the
cores with PostgreSQL, Redis and wrk, so 2 processes reach less than 2x even with nothing else running; when the
machine is already busy (the busy share near 100% for 1 process) a second process has nothing to run on.

Needs ``wrk``, DREAMINA_BENCH_POSTGRES_URL (a database it may write to) and DREAMINA_BENCH_REDIS_URL.

    .venv/bin/python bench/scale_out.py [--routes me,consent] [--seconds 8] [--rounds 3] [--users 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Processes, free_port, wait_until_up
from http_vs_bare import BY_KEY, Call, Load, Sample, prepare_subjects, run_wrk, service_calls, service_environment

ROUTES = ("health", "me", "generations", "consent", "analytics", "submit")  # the token route has its own driver
PROCESS_COUNTS = (1, 2)


def processes_cpu() -> dict[int, tuple[str, int, float]]:
    """Every process now: pid -> (command name, parent pid, CPU seconds so far)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 1 :].split()
        found[int(entry)] = (name, int(rest[1]), (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK"))
    return found


def cpu_by_part(root: int) -> dict[str, float]:
    """CPU seconds so far of the server (``root`` and every process below it: uvicorn's supervisor and its
    children), of PostgreSQL's processes and of Redis (all of them on the machine: other work's too)."""
    now = processes_cpu()
    server, frontier = 0.0, [root]
    while frontier:
        pid = frontier.pop()
        server += now[pid][2] if pid in now else 0.0
        frontier.extend(child for child, (_, parent, _) in now.items() if parent == pid)
    return {
        "server": server,
        "postgres": sum(cpu for name, _, cpu in now.values() if name == "postgres"),
        "redis": sum(cpu for name, _, cpu in now.values() if name.startswith("redis-server")),
    }


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of every core since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class Run:
    sample: Sample
    cores: dict[str, float]  # cores used over the run: the server's processes, PostgreSQL, Redis, wrk
    machine_busy: float  # share of all cores busy over the run

    @property
    def server_ms_per_request(self) -> float:
        return self.cores["server"] / self.sample.rps * 1000


@dataclass
class Figures:
    by_processes: dict[int, list[Run]] = field(default_factory=lambda: {n: [] for n in PROCESS_COUNTS})

    def ratios(self) -> list[float]:
        one, two = self.by_processes[1], self.by_processes[2]
        return [b.sample.rps / a.sample.rps for a, b in zip(one, two, strict=True)]


def measure(base: str, root: int, calls: list[Call], seconds: float, load: Load, work: Path) -> Run:
    before, (busy_before, total_before), started = cpu_by_part(root), machine_busy(), time.perf_counter()
    sample = run_wrk(base, root, calls, seconds, load, work)
    elapsed = time.perf_counter() - started
    after, (busy_after, total_after) = cpu_by_part(root), machine_busy()
    cores = {part: (after[part] - before[part]) / elapsed for part in before}
    return Run(
        sample=sample,
        cores={**cores, "wrk": sample.wrk_cpu or 0.0},
        machine_busy=(busy_after - busy_before) / max(1, total_after - total_before),
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(keys: list[str], figures: dict[str, Figures]) -> int:
    print(
        f"\n{'route':31} {'processes':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} | {'server':>6} {'PG':>5} "
        f"{'Redis':>5} {'wrk':>5} {'busy':>5} | {'CPU ms/req':>10} | non-2xx"
    )
    failed = 0
    for key in keys:
        f = figures[key]
        for n in PROCESS_COUNTS:
            runs = f.by_processes[n]
            statuses = [(s, c) for r in runs for s, c in r.sample.statuses.items()]
            failed += sum(c for s, c in statuses if s >= 500)
            parts = " ".join(
                f"{_median([r.cores[part] for r in runs]):{w}.2f}"
                for part, w in (("server", 6), ("postgres", 5), ("redis", 5), ("wrk", 5))
            )
            print(
                f"{BY_KEY[key].service if n == 1 else '':31} {n:>9} {_median([r.sample.rps for r in runs]):8,.1f} "
                f"{_median([r.sample.p50_ms for r in runs]):7.1f} {_median([r.sample.p99_ms for r in runs]):7.1f} | "
                f"{parts} {_median([r.machine_busy for r in runs]) * 100:4.0f}% | "
                f"{_median([r.server_ms_per_request for r in runs]):10.2f} | "
                f"{sum(c for s, c in statuses if not 200 <= s < 300)}"
            )
    print("\nscaling, 2 processes' req/s over 1's (median of the rounds; each round):")
    for key in keys:
        ratios = figures[key].ratios()
        print(f"  {BY_KEY[key].service:31} {_median(ratios):5.2f}x  ({', '.join(f'{r:.2f}' for r in ratios)})")
    print(
        "\nserver, PG, Redis, wrk: cores each used during the run, medians (the server: its supervisor and every API "
        "process; PostgreSQL and Redis: all their processes on the machine); busy: share of all the machine's cores "
        "busy; CPU ms/req: the server's CPU per answered request."
    )
    print(f"5xx answers: {failed}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", default="me,consent", help=f"comma-separated, of: {', '.join(ROUTES)}")
    parser.add_argument("--seconds", type=float, default=8, help="per route, server and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2, help="seconds per route and server before the first round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--log-level", default="INFO", help="the service's DREAMINA_LOG_LEVEL")
    args = parser.parse_args()
    keys = [k.strip() for k in args.routes.split(",") if k.strip()]
    if not keys or any(k not in ROUTES for k in keys):
        parser.error(f"choose routes from {', '.join(ROUTES)}")
    if not (os.environ.get("DREAMINA_BENCH_POSTGRES_URL") and os.environ.get("DREAMINA_BENCH_REDIS_URL")):
        print("scale-out  skipped (set DREAMINA_BENCH_POSTGRES_URL and DREAMINA_BENCH_REDIS_URL)")
        return 0
    if shutil.which("wrk") is None:
        print("scale-out: wrk is not installed (apt-get install -y wrk; bench/run installs it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        return _run(args, keys, Path(tmp))


def _run(args: argparse.Namespace, keys: list[str], work: Path) -> int:
    ports = {n: free_port() for n in PROCESS_COUNTS}
    env = service_environment(work, ports[1], args.log_level)
    processes = Processes(work, env)
    processes.run("db", "upgrade")
    servers = {}
    for n in PROCESS_COUNTS:
        processes.env = {**env, "DREAMINA_PORT": str(ports[n])}
        servers[n] = processes.start_command(
            f"serve-{n}", [sys.executable, "-m", "dreamina.entrypoints.cli", "serve", "--workers", str(n)]
        )
    load = Load(args.connections, args.threads)
    bases = {n: f"http://127.0.0.1:{ports[n]}" for n in PROCESS_COUNTS}
    try:
        for base in bases.values():
            asyncio.run(wait_until_up(base))
        print(
            f"Scale-out: dreamina serve --workers 1 vs --workers 2 (PostgreSQL, Redis, SAQ; log level "
            f"{args.log_level}) on the same database; wrk -t{load.threads} -c{load.connections}, {args.seconds:g} s "
            "per route and server, "
            f"{args.rounds} round(s), order flipped each round; {os.cpu_count()} cores, load average at start "
            f"{os.getloadavg()[0]:.2f}"
        )
        started = time.monotonic()
        users = asyncio.run(prepare_subjects(bases[1], args.users))
        print(f"{len(users)} subjects prepared ({time.monotonic() - started:.0f} s)")
        figures = {k: Figures() for k in keys}
        for key in keys if args.warmup > 0 else []:
            for n in PROCESS_COUNTS:
                run_wrk(bases[n], servers[n].pid, service_calls(key, users), args.warmup, load, work)
        for round_number in range(args.rounds):
            for key in keys:
                order = PROCESS_COUNTS if round_number % 2 == 0 else tuple(reversed(PROCESS_COUNTS))
                for n in order:
                    run = measure(bases[n], servers[n].pid, service_calls(key, users), args.seconds, load, work)
                    figures[key].by_processes[n].append(run)
            print(f"round {round_number + 1} of {args.rounds} done ({time.monotonic() - started:.0f} s)", flush=True)
        outcome = report(keys, figures)
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
        for n, process in servers.items():
            if process.poll() is not None:
                print(
                    f"serve --workers {n} exited early ({process.returncode}):\n{(work / f'serve-{n}.log').read_text()}"
                )
                outcome = 1
        return outcome
    finally:
        processes.stop()


if __name__ == "__main__":
    sys.exit(main())
