"""Benchmark: what a subject's history costs their access report.

``GET /v1/privacy/requests/{id}/report`` builds the report each time it is asked for: what every store holds of the
subject (a count per store), and the processors their data went to (from the disclosure ledger). Per backend (embedded
SQLite, and PostgreSQL when DREAMINA_BENCH_POSTGRES_URL is set), the report of a subject with ``--generations``
earlier generations (default 20,000), bulk-loaded with what each leaves behind (its hand-off in the disclosure
ledger, its hold and settlement in the credit ledger, an audit event), against a subject who just signed up, in the
same run: reports per second, the ratio (long history over short: 1.0 is a report that does not grow with history)
and the Python heap's peak while one report is built (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import on_every_backend, rate
from generation import wire
from sqlalchemy import insert

from dreamina.adapters.sql.database import Database, upgrade
from dreamina.adapters.sql.models_billing import CreditLedgerEntryRow
from dreamina.adapters.sql.models_generation import GenerationRow
from dreamina.adapters.sql.models_kernel import AuditEventRow, DisclosureRow
from dreamina.bootstrap import sql_database
from dreamina.domain.identity.registrations import SignUp

BATCH = 5_000


def _rows(subject: uuid.UUID, n: int, at: datetime) -> dict[type[Any], dict[str, Any] | list[dict[str, Any]]]:
    generation = uuid.uuid4()
    return {
        GenerationRow: {
            "id": generation,
            "subject_id": subject,
            "kind": "image",
            "status": "succeeded",
            "prompt_ciphertext": b"\x00" * 64,
            "params": {"aspect_ratio": "1:1", "count": 1},
            "provider": "offline",
            "provider_job_id": f"job-{n}",
            "attempts": 1,
            "failure_reason": None,
            "outputs": [
                {"object_key": f"outputs/{subject}/{generation}/0.png", "content_type": "image/png", "bytes": 1}
            ],
            "created_at": at,
            "updated_at": at,
        },
        DisclosureRow: {
            "id": uuid.uuid4(),
            "subject_id": subject,
            "processor": "offline",
            "categories": ["content"],
            "purpose": "service",
            "reference": str(generation),
            "occurred_at": at,
            "improvement_allowed": False,
        },
        CreditLedgerEntryRow: [
            {
                "id": uuid.uuid4(),
                "subject_id": subject,
                "kind": kind,
                "amount": amount,
                "idempotency_key": f"{key}:{generation}",
                "reference": str(generation),
                "created_at": at,
            }
            for kind, amount, key in (("reserve", -4, "reserve"), ("capture", 0, "settle"))
        ],
        AuditEventRow: {
            "id": uuid.uuid4(),
            "subject_id": subject,
            "actor_kind": "subject",
            "actor_id": subject,
            "action": "generation_submitted",
            "fields": ["prompt"],
            "reason": None,
            "occurred_at": at,
        },
    }


async def _load_history(database: Database, subject: uuid.UUID, generations: int) -> float:
    started = time.perf_counter()
    epoch = datetime(2026, 6, 1, tzinfo=UTC)
    async with database.engine.begin() as connection:
        for first in range(0, generations, BATCH):
            tables: dict[type[Any], list[dict[str, Any]]] = {}
            for n in range(first, min(generations, first + BATCH)):
                for table, rows in _rows(subject, n, epoch + timedelta(seconds=n)).items():
                    tables.setdefault(table, []).extend(rows if isinstance(rows, list) else [rows])
            for table, rows in tables.items():
                await connection.execute(insert(table), rows)
    return time.perf_counter() - started


async def bench(name: str, url: str, workdir: Path, generations: int) -> None:
    await upgrade(url)
    database = sql_database(url)
    container = wire(url, workdir / name, database)
    await container.start()
    try:
        subjects = []
        for label in ("short", "long"):
            email = f"bench-report-{label}-{time.time_ns()}@example.com"
            subjects.append(
                await container.identity.registrations.sign_up(
                    SignUp(email, "correct horse battery staple", date(1990, 1, 1), "DE", None, 1)
                )
            )
        short, long = subjects
        loaded = await _load_history(database, long, generations)
        print(f"{name:9} {generations:,} generations' history loaded in {loaded:.1f} s")
        reports = container.data_rights.access_reports

        async def report(subject: uuid.UUID) -> dict[str, Any]:
            return await reports.for_subject(subject)

        held = {entry["store"]: entry["records"] for entry in (await report(long))["held"]}
        counted = (held["generations"], held["credit_ledger_entries"], held["disclosures"], held["audit_events"])
        if counted != (generations, 2 * generations, generations, generations):
            print(f"{name:9} the report's counts are wrong: {held}")
        peaks = {}
        for subject in (short, long):
            tracemalloc.start()
            await report(subject)
            peaks[subject] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
        fresh = await rate(lambda: report(short), 20)
        seasoned = await rate(lambda: report(long), 5)
        print(
            f"{name:9} access report: new subject {fresh:8,.1f}/s (Python peak {peaks[short]:6.2f} MB) |"
            f" {generations:,} generations {seasoned:8,.2f}/s (Python peak {peaks[long]:6.2f} MB)"
            f" | ratio {seasoned / fresh:5.3f}"
        )
    finally:
        await container.aclose()
        await database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=20_000)
    args = parser.parse_args()
    header = (
        f"access report: a subject with {args.generations:,} generations' history against a new subject"
        " (ratio: long history / short; 1.0 = does not grow)"
    )
    return asyncio.run(on_every_backend(header, lambda n, u, w: bench(n, u, w, args.generations)))


if __name__ == "__main__":
    raise SystemExit(main())
