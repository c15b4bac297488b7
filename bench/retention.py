"""Benchmark: the retention sweep purging expired analytics events on PostgreSQL, against one plain ``DELETE`` of
the same rows in the same run, with the sweeping process's peak memory (guarantee G7).

Run with ``bench/run``, or alone: ``DREAMINA_BENCH_POSTGRES_URL=postgresql+asyncpg://dreamina:dreamina@127.0.0.1:5432/
postgres .venv/bin/python bench/retention.py [--rows 100000]``. The bench makes its own throwaway database on that
server, migrates it, and bulk-loads ``--rows`` (default 1,000,000) expired events plus a fifth as many kept ones with
one ``INSERT ... SELECT generate_series`` each (daily pseudonyms, pages, features, client traits, days spread over
the months before and after the cutoff). Then, each in a fresh worker process:

1. the real sweep (``container.privacy.retention`` as bootstrap builds it: every task, the production batch size)
   until nothing is past due: rows/s, wall time, batches;
2. the same expired rows reloaded, then one ``DELETE FROM analytics_events WHERE day < :cutoff``: rows/s.

After each, exactly the expired rows must be gone and every kept row still there. Peak memory is the worker's
``ru_maxrss`` over its resident size just before the purge, and the tracemalloc peak of Python allocations during it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from dreamina.adapters.clock import SystemClock
from dreamina.adapters.crypto import InMemoryKeyVault
from dreamina.adapters.logs import configure_logging
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.adapters.sql.database import upgrade
from dreamina.bootstrap import build_container, sql_database
from dreamina.domain.consent.analytics import RETENTION_DAYS
from dreamina.domain.consent.retention import ExpiredAnalyticsEvents
from dreamina.settings import load_settings

# Rows are kept this many days clear of the cutoff, so a run crossing midnight moves no row across it.
MARGIN_DAYS = 3
EXPIRED_SPAN_DAYS = 400  # expired events spread over the thirteen months before the cutoff
DAILY_VISITORS = 500  # distinct pseudonyms a day (at 1,000,000 rows about five events each)

# One generated event per ``g``: every value is drawn from realistic sets by arithmetic on g, the pseudonym is 32 hex
# characters per visitor and day like the keyed hash it stands for, and rows come in day order as ingest writes them.
_GENERATE = """
INSERT INTO {table} (id, day, name, feature, page, country, browser_family, device_class, pseudonym)
SELECT gen_random_uuid(), e.day,
       CASE WHEN g % 4 = 0 THEN 'feature_used' ELSE 'page_view' END,
       CASE WHEN g % 4 = 0 THEN (ARRAY['generate.image', 'generate.video', 'upload', 'export.request',
                                       'checkout.open'])[1 + (g / 4) % 5] END,
       CASE WHEN g % 4 <> 0 THEN (ARRAY['/', '/pricing', '/gallery', '/create', '/account', '/help/privacy',
                                        '/p/explore', '/p/styles/watercolour'])[1 + (g / 4) % 8] END,
       (ARRAY['DE', 'US', 'FR', 'GB', 'BR', 'IN', 'JP', 'ES', 'IT', 'NL', NULL])[1 + (g / 7) % 11],
       (ARRAY['Chrome', 'Safari', 'Firefox', 'Edge', 'Samsung Internet', 'Other'])[1 + (g / 3) % 6],
       (ARRAY['desktop', 'mobile', 'mobile', 'tablet', 'other'])[1 + (g / 11) % 5],
       md5('subject:' || ((g::bigint * 7919) % {visitors}) || '|' || e.day)
FROM generate_series(0, :n - 1) AS g,
     LATERAL (SELECT CAST(:first_day AS date) + (g::bigint * :span_days / :n)::int AS day) AS e
"""


def _database_url(server_url: str) -> str:
    name = f"dreamina_bench_retention_{uuid.uuid4().hex[:8]}"
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


class Table:
    """Plain SQL on the bench database: loading, reloading, vacuuming and checking ``analytics_events``."""

    def __init__(self, url: str) -> None:
        self._engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")

    async def run(self, statement: str, **params: Any) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text(statement), params)

    async def count(self, statement: str, **params: Any) -> int:
        async with self._engine.connect() as connection:
            return int((await connection.execute(text(statement), params)).scalar_one())

    async def load(self, expired: int, kept: int, cutoff: date, today: date) -> None:
        # The expired rows are generated once into a side table, so the plain DELETE gets exactly the same rows.
        await self.run("CREATE UNLOGGED TABLE bench_expired (LIKE analytics_events)")
        await self.run("CREATE UNLOGGED TABLE bench_kept (id uuid PRIMARY KEY)")
        first_kept = cutoff + timedelta(days=MARGIN_DAYS)
        await self.run(
            _GENERATE.format(table="bench_expired", visitors=DAILY_VISITORS),
            n=expired,
            first_day=cutoff - timedelta(days=MARGIN_DAYS + EXPIRED_SPAN_DAYS),
            span_days=EXPIRED_SPAN_DAYS,
        )
        await self.run(
            _GENERATE.format(table="analytics_events", visitors=DAILY_VISITORS),
            n=kept,
            first_day=first_kept,
            span_days=(today - first_kept).days + 1,
        )
        await self.run("INSERT INTO bench_kept SELECT id FROM analytics_events")

    async def refill(self) -> None:
        await self.run("INSERT INTO analytics_events SELECT * FROM bench_expired")
        await self.run("VACUUM ANALYZE analytics_events")  # both purges start from a clean, analysed table

    async def check(self, cutoff: date, *, expired: int, kept: int) -> None:
        """Exactly ``expired`` rows before the cutoff, and every kept row (and nothing else) after it."""
        before = await self.count("SELECT count(*) FROM analytics_events WHERE day < :cutoff", cutoff=cutoff)
        total = await self.count("SELECT count(*) FROM analytics_events")
        intact = await self.count("SELECT count(*) FROM analytics_events JOIN bench_kept USING (id)")
        assert (before, total - before, intact) == (expired, kept, kept), (before, total, intact, expired, kept)

    async def dispose(self) -> None:
        await self._engine.dispose()


def _resident_kib() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def _memory(started_kib: int, python_peak: int) -> dict[str, int]:
    return {
        "rss_before_kib": started_kib,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "python_peak": python_peak,
    }


async def sweep_worker(url: str, workdir: Path) -> dict[str, Any]:
    """The production sweep, built by bootstrap, until nothing is past due."""
    database = sql_database(url)
    container = build_container(
        load_settings(
            {
                "DREAMINA_DATA_DIR": str(workdir),
                "DREAMINA_DATABASE_URL": url,
                # the production batch size unless the run asks for another (--batch-size)
                **{k: v for k, v in os.environ.items() if k == "DREAMINA_RETENTION_BATCH_SIZE"},
            }
        ),
        uow=database.unit_of_work,
        database_ping=database.ping,
        vault=InMemoryKeyVault(),
        mailer=InMemoryMailer(),
        passwords=Argon2PasswordHasher.fast(),
    )
    container.lifecycle.closers.append(database.dispose)
    await container.start()
    assert any(isinstance(t, ExpiredAnalyticsEvents) for t in container.privacy.retention.tasks)
    batches: list[int] = []
    finished: list[float] = []  # when each batch committed, to see whether later batches slow down

    def progress(task: str, done: int) -> None:
        if task == ExpiredAnalyticsEvents.name:
            batches.append(done)
            finished.append(time.perf_counter())

    rss_before = _resident_kib()
    tracemalloc.start()
    started = time.perf_counter()
    reports = await container.privacy.retention.run(progress=progress)
    seconds = time.perf_counter() - started
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await container.aclose()
    report = next(r for r in reports if r.task == ExpiredAnalyticsEvents.name)
    tenth = max(1, len(finished) // 10)
    gaps = [later - earlier for earlier, later in itertools.pairwise(finished)]
    return {
        "seconds": seconds,
        "due": report.due,
        "applied": report.applied,
        "batches": len(batches),
        "batch_size": max(batches, default=0),
        "first_tenth_ms": 1000 * sum(gaps[:tenth]) / max(1, len(gaps[:tenth])),
        "last_tenth_ms": 1000 * sum(gaps[-tenth:]) / max(1, len(gaps[-tenth:])),
        **_memory(rss_before, python_peak),
    }


async def delete_worker(url: str, cutoff: date) -> dict[str, Any]:
    """One plain DELETE of every expired row, in one statement and one transaction."""
    database = sql_database(url)
    await database.ping()  # connect before measuring, as the sweep's container has
    rss_before = _resident_kib()
    tracemalloc.start()
    started = time.perf_counter()
    async with database.session_factory() as session:
        result = await session.execute(text("DELETE FROM analytics_events WHERE day < :cutoff"), {"cutoff": cutoff})
        deleted = int(result.rowcount)  # type: ignore[attr-defined]
        await session.commit()
    seconds = time.perf_counter() - started
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await database.dispose()
    return {"seconds": seconds, "applied": deleted, **_memory(rss_before, python_peak)}


def _worker(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the {args[0]} worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mb(kib: int) -> float:
    return kib / 1024


async def bench(server_url: str, expired: int) -> None:
    kept = expired // 5
    url = _database_url(server_url)
    name = make_url(url).database
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    table = Table(url)
    try:
        await upgrade(url)
        today = SystemClock().now().date()
        cutoff = today - timedelta(days=RETENTION_DAYS)  # what ExpiredAnalyticsEvents deletes before
        started = time.perf_counter()
        await table.load(expired, kept, cutoff, today)
        await table.refill()
        loaded = time.perf_counter() - started
        await table.check(cutoff, expired=expired, kept=kept)
        print(
            f"retention: {expired:,} expired + {kept:,} kept analytics events on PostgreSQL "
            f"(loaded in {loaded:.1f} s; cutoff {cutoff}, {RETENTION_DAYS} days)"
        )

        sweep = _worker("--sweep", url)
        await table.check(cutoff, expired=0, kept=kept)
        assert (sweep["due"], sweep["applied"]) == (expired, expired), sweep
        assert sweep["batches"] == -(-expired // sweep["batch_size"]), sweep  # full batches, then one remainder

        await table.refill()
        await table.check(cutoff, expired=expired, kept=kept)
        plain = _worker("--delete", url, cutoff.isoformat())
        await table.check(cutoff, expired=0, kept=kept)
        assert plain["applied"] == expired, plain

        for label, run in (("sweep", sweep), ("plain DELETE", plain)):
            extra = ""
            if "batches" in run:
                extra = (
                    f"   {run['batches']} batches of {run['batch_size']} ({run['first_tenth_ms']:.1f} ms each in "
                    f"the first tenth, {run['last_tenth_ms']:.1f} ms in the last)"
                )
            print(
                f"  {label:12}: {expired / run['seconds']:9.0f} rows/s   {run['seconds']:6.1f} s{extra}\n"
                f"  {'':12}  peak RSS +{_mb(run['maxrss_kib'] - run['rss_before_kib']):5.1f} MB "
                f"(from {_mb(run['rss_before_kib']):5.1f} MB to {_mb(run['maxrss_kib']):5.1f} MB)   "
                f"Python peak {run['python_peak'] / 1e6:5.2f} MB"
            )
        print(f"  plain DELETE rows/s / sweep rows/s: {sweep['seconds'] / plain['seconds']:.2f}x")
    finally:
        await table.dispose()
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    configure_logging("WARNING")
    if len(sys.argv) > 1 and sys.argv[1] == "--sweep":
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(asyncio.run(sweep_worker(sys.argv[2], Path(tmp)))))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--delete":
        print(json.dumps(asyncio.run(delete_worker(sys.argv[2], date.fromisoformat(sys.argv[3])))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="expired rows to purge (default 1,000,000)")
    parser.add_argument(
        "--batch-size", type=int, default=0, help="records per sweep transaction (default: the production setting)"
    )
    args = parser.parse_args()
    rows = args.rows
    if rows <= 0:
        parser.error("--rows must be positive")
    if args.batch_size < 0:
        parser.error("--batch-size must be positive")
    if args.batch_size:
        os.environ["DREAMINA_RETENTION_BATCH_SIZE"] = str(args.batch_size)  # read by the sweep's own process
    server_url = os.environ.get("DREAMINA_BENCH_POSTGRES_URL")
    if not server_url:
        print("retention: needs PostgreSQL; set DREAMINA_BENCH_POSTGRES_URL (bench/run does)", file=sys.stderr)
        return 2
    asyncio.run(bench(server_url, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
