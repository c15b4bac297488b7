"""What every benchmark shares: the timing loop, settings without limits in the way, and the backend loop."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

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
