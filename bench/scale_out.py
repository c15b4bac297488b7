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


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by ``root`` and every process below it (uvicorn's supervisor and its children)."""
    stats = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(p)) is not None}
    total, frontier = 0.0, [root]
    while frontier:
        pid = frontier.pop()
        if pid in stats:
            total += stats[pid][1]
        frontier.extend(child for child, (parent, _) in stats.items() if parent == pid)
    return total


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of every core since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class Run:
    sample: Sample
    server_cores: float  # CPU of the server's processes over the run, in cores
    machine_busy: float  # share of all cores busy over the run


@dataclass
class Figures:
    by_processes: dict[int, list[Run]] = field(default_factory=lambda: {n: [] for n in PROCESS_COUNTS})

    def ratios(self) -> list[float]:
        one, two = self.by_processes[1], self.by_processes[2]
        return [b.sample.rps / a.sample.rps for a, b in zip(one, two, strict=True)]


def measure(base: str, root: int, calls: list[Call], seconds: float, load: Load, work: Path) -> Run:
    cpu_before, (busy_before, total_before), started = tree_cpu(root), machine_busy(), time.perf_counter()
    sample = run_wrk(base, root, calls, seconds, load, work)
    elapsed = time.perf_counter() - started
    busy_after, total_after = machine_busy()
    return Run(
        sample=sample,
        server_cores=(tree_cpu(root) - cpu_before) / elapsed,
        machine_busy=(busy_after - busy_before) / max(1, total_after - total_before),
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(keys: list[str], figures: dict[str, Figures]) -> int:
    print(
        f"\n{'route':31} | {'1 process req/s':>15} {'p50/p99 ms':>13} {'CPU':>5} {'busy':>5} | "
        f"{'2 processes req/s':>17} {'p50/p99 ms':>13} {'CPU':>5} {'busy':>5} | {'ratio':>6} (rounds) | non-2xx"
    )
    failed = 0
    for key in keys:
        f = figures[key]
        cells = []
        for n in PROCESS_COUNTS:
            runs = f.by_processes[n]
            cells.append(
                f"{_median([r.sample.rps for r in runs]):{15 if n == 1 else 17},.1f} "
                f"{_median([r.sample.p50_ms for r in runs]):6.1f}/{_median([r.sample.p99_ms for r in runs]):<6.0f} "
                f"{_median([r.server_cores for r in runs]):5.2f} {_median([r.machine_busy for r in runs]) * 100:4.0f}%"
            )
        odd = sum(
            count
            for runs in f.by_processes.values()
            for r in runs
            for status, count in r.sample.statuses.items()
            if not 200 <= status < 300
        )
        failed += sum(
            count
            for runs in f.by_processes.values()
            for r in runs
            for s, count in r.sample.statuses.items()
            if s >= 500
        )
        rounds = ", ".join(f"{r:.2f}" for r in f.ratios())
        print(f"{BY_KEY[key].service:31} | {cells[0]} | {cells[1]} | {_median(f.ratios()):5.2f}x ({rounds}) | {odd}")
    print(
        "\nCPU: cores the server's processes used (supervisor and children); busy: share of all the machine's cores "
        "busy during the run (the servers, PostgreSQL, Redis, wrk and anything else on the machine)."
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
