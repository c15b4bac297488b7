"""Benchmark: the retention sweep purging expired analytics events on PostgreSQL, against one plain ``DELETE`` of
the same rows in the same run, with each process's peak memory (guarantee G7).

Run with ``bench/run``, or alone: ``DREAMINA_BENCH_POSTGRES_URL=postgresql+asyncpg://dreamina:dreamina@127.0.0.1:5432/
postgres .venv/bin/python bench/retention.py [--rows 100000] [--days 400]``. The bench makes its own throwaway
database on that server and migrates it: ``analytics_events`` is partitioned by day (migration 0017). It makes the day
partitions from the first loaded day to today, as the sweeps of those days would have made them ahead
(``adapters/sql/partitions.py``), and bulk-loads ``--rows`` (default 1,000,000) expired events spread over ``--days``
days (default 400, the thirteen months before the cutoff) plus a fifth as many kept ones, with one ``INSERT ...
SELECT generate_series`` each (daily pseudonyms, pages, features, client traits). Then, each in a fresh worker
process:

1. the real sweep (``container.privacy.retention`` as bootstrap builds it: every task, the production batch size)
   until nothing is past due: the expired days' partitions counted and dropped whole, then batches for anything
   else past due; rows/s, wall time, the analytics task's own share of it, its transactions;
2. the same partitions made again, the same expired rows reloaded, then one ``DELETE FROM analytics_events WHERE
   day < :cutoff`` on the same table: rows/s, and (outside the timing) the ``VACUUM`` it leaves to do;
3. for reference, the same rows in a plain table laid out as before migration 0017 (primary key ``id``, the same
   indexes) and the same ``DELETE`` there.

After each, exactly the expired rows must be gone and every kept row still there. Peak memory is the worker's
``ru_maxrss`` over its resident size just before the purge, and the tracemalloc peak of Python allocations during it.
"""

from __future__ import annotations

import argparse
import asyncio
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
from dreamina.adapters.sql.partitions import ANALYTICS_EVENTS, create_partitions
from dreamina.bootstrap import build_container, sql_database
from dreamina.domain.consent.analytics import RETENTION_DAYS
from dreamina.domain.consent.retention import ExpiredAnalyticsEvents
from dreamina.domain.privacy.retention import WHOLE_PERIODS_IN_FLIGHT
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


# The table as it was before migration 0017: one heap, primary key ``id``, the same two indexes.
_FLAT = """
CREATE TABLE analytics_events_flat (LIKE analytics_events INCLUDING DEFAULTS);
ALTER TABLE analytics_events_flat ADD PRIMARY KEY (id);
CREATE INDEX ix_flat_day ON analytics_events_flat (day, name);
CREATE INDEX ix_flat_pseudonym ON analytics_events_flat (pseudonym)
"""


class Table:
    """Plain SQL on the bench database: partitions, loading, reloading, vacuuming and checking the events."""

    def __init__(self, url: str) -> None:
        self._engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")

    async def run(self, statement: str, **params: Any) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text(statement), params)

    async def count(self, statement: str, **params: Any) -> int:
        async with self._engine.connect() as connection:
            return int((await connection.execute(text(statement), params)).scalar_one())

    async def partitions(self) -> int:
        return await self.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics_events'::regclass")

    async def make_partitions(self, first: date, last: date) -> int:
        """The day partitions the sweeps of those days would have made ahead (the same code, in one transaction)."""
        async with self._engine.connect() as autocommit:
            connection = await autocommit.execution_options(isolation_level="READ COMMITTED")
            async with connection.begin():
                return await create_partitions(connection, ANALYTICS_EVENTS, first, last)

    async def load(self, expired: int, kept: int, cutoff: date, today: date, days: int) -> None:
        # The expired rows are generated once into a side table, so the plain DELETE gets exactly the same rows.
        await self.run("CREATE UNLOGGED TABLE bench_expired (LIKE analytics_events)")
        await self.run("CREATE UNLOGGED TABLE bench_kept (id uuid PRIMARY KEY)")
        first_kept = cutoff + timedelta(days=MARGIN_DAYS)
        await self.run(
            _GENERATE.format(table="bench_expired", visitors=DAILY_VISITORS),
            n=expired,
            first_day=cutoff - timedelta(days=MARGIN_DAYS + days),
            span_days=days,
        )
        await self.run(
            _GENERATE.format(table="analytics_events", visitors=DAILY_VISITORS),
            n=kept,
            first_day=first_kept,
            span_days=(today - first_kept).days + 1,
        )
        await self.run("INSERT INTO bench_kept SELECT id FROM analytics_events")

    async def refill(self, table: str = "analytics_events") -> None:
        await self.run(f"INSERT INTO {table} SELECT * FROM bench_expired")  # noqa: S608 - the bench's own names
        await self.run(f"VACUUM ANALYZE {table}")  # every purge starts from a clean, analysed table

    async def flat(self) -> None:
        """The same expired and kept rows in a plain table laid out as before migration 0017."""
        for statement in _FLAT.split(";"):
            await self.run(statement)
        await self.run("INSERT INTO analytics_events_flat SELECT * FROM analytics_events")
        await self.refill("analytics_events_flat")

    async def check(self, cutoff: date, *, expired: int, kept: int, table: str = "analytics_events") -> None:
        """Exactly ``expired`` rows before the cutoff, and every kept row (and nothing else) after it."""
        before = await self.count(f"SELECT count(*) FROM {table} WHERE day < :cutoff", cutoff=cutoff)  # noqa: S608
        total = await self.count(f"SELECT count(*) FROM {table}")  # noqa: S608
        intact = await self.count(f"SELECT count(*) FROM {table} JOIN bench_kept USING (id)")  # noqa: S608
        assert (before, total - before, intact) == (expired, kept, kept), (before, total, intact, expired, kept)

    async def vacuum(self, table: str) -> float:
        """Seconds of the ``VACUUM`` that reclaims what a ``DELETE`` left behind (dead rows, index entries)."""
        started = time.perf_counter()
        await self.run(f"VACUUM {table}")
        return time.perf_counter() - started

    async def dispose(self) -> None:
        await self._engine.dispose()


def _covered(spans: list[tuple[float, float]]) -> float:
    """The time at least one of ``spans`` (start, end) was running: overlapping spans count once."""
    covered, reached = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reached:
            covered += end - max(start, reached)
            reached = end
    return covered


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
    task = next(t for t in container.privacy.retention.tasks if isinstance(t, ExpiredAnalyticsEvents))
    transactions: dict[str, list[float]] = {"whole": [], "batch": [], "other": []}  # seconds each
    spans: list[tuple[float, float]] = []  # when each ran: the sweep keeps two whole-period transactions in flight

    def timed(kind: str, method: Any) -> Any:
        async def call(*args: Any) -> Any:
            started = time.perf_counter()
            result = await method(*args)
            ended = time.perf_counter()
            # a transaction that removed something, or the task's other work (preparing days, counting)
            transactions[kind if result or kind == "other" else "other"].append(ended - started)
            spans.append((started, ended))
            return result

        return call

    # instrument the analytics task (this instance only): its own time in the sweep, which of its transactions
    # dropped days whole and which were batches
    task.prepare_periods = timed("other", task.prepare_periods)  # type: ignore[method-assign]
    task.drop_whole_periods = timed("whole", task.drop_whole_periods)  # type: ignore[method-assign]
    task.due = timed("other", task.due)  # type: ignore[method-assign]
    task.apply = timed("batch", task.apply)  # type: ignore[method-assign]

    rss_before = _resident_kib()
    tracemalloc.start()
    started = time.perf_counter()
    reports = await container.privacy.retention.run()
    seconds = time.perf_counter() - started
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await container.aclose()
    report = next(r for r in reports if r.task == ExpiredAnalyticsEvents.name)
    whole, batches = transactions["whole"], transactions["batch"]
    return {
        "seconds": seconds,
        "task_seconds": _covered(spans),  # the task's own wall time: overlapping transactions count once
        "due": report.due,
        "applied": report.applied,
        "whole": len(whole),
        "whole_ms": 1000 * sum(whole) / max(1, len(whole)),
        "batches": len(batches),
        **_memory(rss_before, python_peak),
    }


async def delete_worker(url: str, cutoff: date, table: str) -> dict[str, Any]:
    """One plain DELETE of every expired row of ``table``, in one statement and one transaction."""
    database = sql_database(url)
    await database.ping()  # connect before measuring, as the sweep's container has
    rss_before = _resident_kib()
    tracemalloc.start()
    started = time.perf_counter()
    async with database.session_factory() as session:
        statement = text(f"DELETE FROM {table} WHERE day < :cutoff")  # noqa: S608 - the bench's own names
        result = await session.execute(statement, {"cutoff": cutoff})
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


async def bench(server_url: str, expired: int, days: int) -> None:
    kept = expired // 5
    url = _database_url(server_url)
    name = make_url(url).database
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    table = Table(url)
    try:
        await upgrade(url)
        today = SystemClock().now().date()
        cutoff = today - timedelta(days=RETENTION_DAYS)  # what ExpiredAnalyticsEvents deletes before
        first_day = cutoff - timedelta(days=MARGIN_DAYS + days)
        started = time.perf_counter()
        made = await table.make_partitions(first_day, today)
        await table.load(expired, kept, cutoff, today, days)
        await table.refill()
        loaded = time.perf_counter() - started
        await table.check(cutoff, expired=expired, kept=kept)
        partitions = await table.partitions()
        print(
            f"retention: {expired:,} expired analytics events over {days} days + {kept:,} kept ones on PostgreSQL, "
            f"{partitions} day partitions ({made} made for the loaded days; loaded in {loaded:.1f} s; "
            f"cutoff {cutoff}, {RETENTION_DAYS} days)"
        )

        sweep = _worker("--sweep", url)
        await table.check(cutoff, expired=0, kept=kept)
        assert (sweep["due"], sweep["applied"]) == (expired, expired), sweep
        dropped = partitions - await table.partitions()

        await table.make_partitions(first_day, today)
        await table.refill()
        await table.check(cutoff, expired=expired, kept=kept)
        plain = _worker("--delete", url, cutoff.isoformat(), "analytics_events")
        await table.check(cutoff, expired=0, kept=kept)
        assert plain["applied"] == expired, plain
        plain["vacuum"] = await table.vacuum("analytics_events")

        await table.flat()
        await table.check(cutoff, expired=expired, kept=kept, table="analytics_events_flat")
        flat = _worker("--delete", url, cutoff.isoformat(), "analytics_events_flat")
        await table.check(cutoff, expired=0, kept=kept, table="analytics_events_flat")
        assert flat["applied"] == expired, flat
        flat["vacuum"] = await table.vacuum("analytics_events_flat")

        runs = (("sweep", sweep), ("plain DELETE", plain), ("plain DELETE, unpartitioned table", flat))
        for label, run in runs:
            if "whole" in run:
                extra = (
                    f"   the analytics task {run['task_seconds']:.2f} s of it: {dropped} day partitions dropped in "
                    f"{run['whole']} transactions ({run['whole_ms']:.0f} ms each, {WHOLE_PERIODS_IN_FLIGHT} at once), "
                    f"{run['batches']} batches"
                )
            else:
                extra = f"   (and the VACUUM it leaves: {run['vacuum']:.2f} s)"
            print(
                f"  {label}: {expired / run['seconds']:9.0f} rows/s   {run['seconds']:6.2f} s{extra}\n"
                f"    peak RSS +{_mb(run['maxrss_kib'] - run['rss_before_kib']):5.1f} MB "
                f"(from {_mb(run['rss_before_kib']):5.1f} MB to {_mb(run['maxrss_kib']):5.1f} MB)   "
                f"Python peak {run['python_peak'] / 1e6:5.2f} MB"
            )
        print(
            f"  sweep time / plain DELETE time: {sweep['seconds'] / plain['seconds']:.2f}x on the same table, "
            f"{sweep['seconds'] / flat['seconds']:.2f}x on the unpartitioned one; the analytics task alone: "
            f"{sweep['task_seconds'] / plain['seconds']:.2f}x, {sweep['task_seconds'] / flat['seconds']:.2f}x"
        )
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
        print(json.dumps(asyncio.run(delete_worker(sys.argv[2], date.fromisoformat(sys.argv[3]), sys.argv[4]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="expired rows to purge (default 1,000,000)")
    parser.add_argument(
        "--days", type=int, default=EXPIRED_SPAN_DAYS, help=f"days the expired rows spread over ({EXPIRED_SPAN_DAYS})"
    )
    parser.add_argument(
        "--batch-size", type=int, default=0, help="records per sweep transaction (default: the production setting)"
    )
    args = parser.parse_args()
    rows = args.rows
    if rows <= 0:
        parser.error("--rows must be positive")
    if args.days <= 0:
        parser.error("--days must be positive")
    if args.batch_size < 0:
        parser.error("--batch-size must be positive")
    if args.batch_size:
        os.environ["DREAMINA_RETENTION_BATCH_SIZE"] = str(args.batch_size)  # read by the sweep's own process
    server_url = os.environ.get("DREAMINA_BENCH_POSTGRES_URL")
    if not server_url:
        print("retention: needs PostgreSQL; set DREAMINA_BENCH_POSTGRES_URL (bench/run does)", file=sys.stderr)
        return 2
    asyncio.run(bench(server_url, rows, args.days))
    return 0


if __name__ == "__main__":
    sys.exit(main())
