"""Two source trees of the service side by side: which is cheaper per request, measured in one run.

Each tree's ``dreamina serve`` (its own ``src`` first on ``PYTHONPATH``, one uvicorn process, PostgreSQL, Redis and
SAQ as ``http_vs_bare.py`` runs it) on the same PostgreSQL database, each with its own 16 subjects; then, per route,
a warm-up and ``--rounds`` wrk runs of each, alternating, the order flipped every round, so whatever else the machine
does falls on both alike. Prints each tree's req/s, p99 and its server's CPU per request (medians; the CPU of every
round too), and B against A: the per-round req/s ratios and the median CPU ratio. The CPU per request is the steadier
figure on a shared machine: a round's throughput moves with the machine, the work a request costs the server much
less.

Not part of ``bench/run`` (it needs two checkouts): a change is measured against the commit before it, e.g.
``git worktree add /tmp/before HEAD~1`` then, with the environment of ``bench/run`` (``DREAMINA_BENCH_POSTGRES_URL``,
``DREAMINA_BENCH_REDIS_URL``): ``.venv/bin/python bench/ab_trees.py /tmp/before . --routes me,analytics``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import http_vs_bare as bench
from common import Processes, free_port, wait_until_up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("a", type=Path, help="tree A (the checkout before)")
    parser.add_argument("b", type=Path, help="tree B (the checkout after)")
    parser.add_argument("--routes", default="me", help="comma-separated keys of http_vs_bare.py's service calls")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--users", type=int, default=16)
    args = parser.parse_args()
    trees = {"A": args.a.resolve(), "B": args.b.resolve()}
    work = Path(tempfile.mkdtemp(prefix="dreamina-ab-"))
    running: list[Processes] = []
    bases: dict[str, str] = {}
    pids: dict[str, int] = {}
    try:
        for name, tree in trees.items():
            port = free_port()
            (work / name).mkdir()
            env = bench.service_environment(work / name, port, "INFO")
            env["PYTHONPATH"] = str(tree / "src")
            processes = Processes(work / name, env)
            running.append(processes)
            if name == "A":
                processes.run("db", "upgrade")
            pids[name] = processes.start("serve").pid
            bases[name] = f"http://127.0.0.1:{port}"
        for base in bases.values():
            asyncio.run(wait_until_up(base))
        users = {name: asyncio.run(bench.prepare_subjects(base, args.users)) for name, base in bases.items()}
        load = bench.Load(16, 2)
        print(f"A = {trees['A']}, B = {trees['B']}; wrk -t2 -c16, {args.rounds} rounds of {args.seconds:g} s a tree")
        for route in args.routes.split(","):
            calls = {name: bench.service_calls(route, users[name]) for name in trees}
            for name in trees:  # warm-up
                bench.run_wrk(bases[name], pids[name], calls[name], 3, load, work)
            rounds: dict[str, list[bench.Sample]] = {name: [] for name in trees}
            for number in range(args.rounds):
                for name in ("A", "B") if number % 2 == 0 else ("B", "A"):
                    rounds[name].append(bench.run_wrk(bases[name], pids[name], calls[name], args.seconds, load, work))
            cpu = {name: [s.server_cpu / s.rps * 1e6 for s in rounds[name] if s.server_cpu] for name in trees}
            for name in trees:
                rates = [s.rps for s in rounds[name]]
                p99 = statistics.median(s.p99_ms for s in rounds[name])
                print(
                    f"{route:12} {name}: {statistics.median(rates):9,.1f} req/s, p99 {p99:6.1f} ms, "
                    f"{statistics.median(cpu[name]):6.1f} us of server CPU a request "
                    f"(rounds {', '.join(f'{c:.0f}' for c in cpu[name])})"
                )
            ratios = [b.rps / a.rps for a, b in zip(rounds["A"], rounds["B"], strict=True)]
            each = ", ".join(f"{r:.2f}" for r in ratios)
            print(
                f"{route:12} B/A: req/s {statistics.median(ratios):.3f} (rounds {each}),"
                f" CPU a request {statistics.median(cpu['B']) / statistics.median(cpu['A']):.3f}",
                flush=True,
            )
        return 0
    finally:
        for processes in running:
            processes.stop()


if __name__ == "__main__":
    sys.exit(main())
