"""What every benchmark shares: the timing loop, settings without limits in the way, the backend loop, and the
real processes (``dreamina serve`` and workers) that the HTTP benchmarks start."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from dreamina.adapters.logs import configure_logging

# Rate limits and the welcome grant are product rules, not costs: a benchmark lifts them so it measures the code path.
UNLIMITED = {
    "DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE": "100000000",
    "DREAMINA_RATE_LIMIT_CONTENT_PER_MINUTE": "100000000",
    "DREAMINA_RATE_LIMIT_GENERAL_PER_MINUTE": "100000000",
    "DREAMINA_BILLING_WELCOME_CREDITS": "100000000",
}


async def rate(operation: Callable[[], Awaitable[object]], rounds: int, per_call: int = 1) -> float:
    """Operations (times ``per_call`` items) per second: median of 3 samples after a warm-up."""
    for _ in range(min(50, rounds)):  # warm caches and pools
        await operation()
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            await operation()
        samples.append(rounds * per_call / (time.perf_counter() - started))
    return statistics.median(samples)


async def on_every_backend(header: str, bench: Callable[[str, str, Path], Awaitable[None]]) -> int:
    """Run ``bench(name, url, workdir)`` on SQLite, and on PostgreSQL when DREAMINA_BENCH_POSTGRES_URL is set."""
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(header)
        await bench("sqlite", f"sqlite+aiosqlite:///{work / 'bench.sqlite3'}", work)
        pg = os.environ.get("DREAMINA_BENCH_POSTGRES_URL")
        if pg:
            await bench("postgres", pg, work)
        else:
            print("postgres  skipped (set DREAMINA_BENCH_POSTGRES_URL)")
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """Real processes (``dreamina ...`` commands, or any other command), logs in files (an undrained pipe would
    stall a server)."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env = work, env
        self.running: list[tuple[subprocess.Popen[bytes], Any]] = []

    def start(self, *command: str) -> subprocess.Popen[bytes]:
        return self.start_command(command[0], [sys.executable, "-m", "dreamina.entrypoints.cli", *command])

    def start_command(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.work / f"{name}.log").open("w")
        process = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.running.append((process, log))
        return process

    def run(self, *command: str) -> None:
        subprocess.run([sys.executable, "-m", "dreamina.entrypoints.cli", *command], env=self.env, check=True)

    def stop(self) -> None:
        for process, log in self.running:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


async def wait_until_up(base: str, path: str = "/health", seconds: float = 60) -> None:
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base}{path}", timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"the server at {base} did not come up in {seconds:.0f} s")
