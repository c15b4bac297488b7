"""Benchmark: what a subject's history costs their access report and their export.

``GET /v1/privacy/requests/{id}/report`` builds the report each time it is asked for: what every store holds of the
subject (a count per store), and the processors their data went to (from the disclosure ledger). An export writes
every record. Per backend (embedded SQLite, and PostgreSQL when DREAMINA_BENCH_POSTGRES_URL is set), for a subject
with ``--generations`` earlier generations (default 20,000), bulk-loaded with what each leaves behind (its prompt
sealed with the subject's key, its hand-off in the disclosure ledger, its hold and settlement in the credit ledger,
an audit event), against a subject who just signed up, in the same run:

- the access report: reports per second, the ratio (long history over short: 1.0 is a report that does not grow
  with history) and the Python heap's peak while one report is built (tracemalloc);
- the export's records: every holder's ``export`` into a sink that reads what it is given as the ZIP writer does
  (the files are ``bench/export.py``'s), with the Python heap's peak and the records written: the records are
  streamed a page at a time, so the peak does not grow with the history;
- the erasure's records: every holder's ``processor_references`` and ``erase``, in the saga's order of stages, with
  the Python heap's peak and the records deleted or pseudonymised (last: it takes the history away).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterable
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
from dreamina.bootstrap import Container, sql_database
from dreamina.domain.generation.rules import PROMPT_FIELD
from dreamina.domain.identity.registrations import SignUp

BATCH = 5_000


def _rows(
    subject: uuid.UUID, n: int, at: datetime, prompt: bytes
) -> dict[type[Any], dict[str, Any] | list[dict[str, Any]]]:
    generation = uuid.uuid4()
    return {
        GenerationRow: {
            "id": generation,
            "subject_id": subject,
            "kind": "image",
            "status": "succeeded",
            "prompt_ciphertext": prompt,
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


async def _load_history(container: Container, database: Database, subject: uuid.UUID, generations: int) -> float:
    started = time.perf_counter()
    async with container.infra.uow() as uow:
        prompt = await container.infra.keyrings(uow.subject_keys).seal(subject, PROMPT_FIELD, "a lighthouse at dusk")
    epoch = datetime(2026, 6, 1, tzinfo=UTC)
    async with database.engine.begin() as connection:
        for first in range(0, generations, BATCH):
            tables: dict[type[Any], list[dict[str, Any]]] = {}
            for n in range(first, min(generations, first + BATCH)):
                for table, rows in _rows(subject, n, epoch + timedelta(seconds=n), prompt).items():
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
        loaded = await _load_history(container, database, long, generations)
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
        exported = {}
        for subject in (short, long):
            tracemalloc.start()
            started = time.perf_counter()
            sink = _CountingSink()
            for holder in container.data_rights.holders:
                await holder.export(subject, sink)
            seconds = time.perf_counter() - started
            exported[subject] = (seconds, tracemalloc.get_traced_memory()[1] / 1e6, sink)
            tracemalloc.stop()
        (fresh_s, fresh_peak, _), (long_s, long_peak, sink) = exported[short], exported[long]
        wrote = {c: sink.records[c] for c in ("generations", "credit_ledger", "audit_events", "disclosures")}
        print(
            f"{name:9} export records: new subject {fresh_s:6.2f} s (Python peak {fresh_peak:6.2f} MB) |"
            f" {generations:,} generations {long_s:6.2f} s (Python peak {long_peak:6.2f} MB); written {wrote}"
        )
        erased = {}
        for subject in (short, long):  # last: it takes the history away
            tracemalloc.start()
            started = time.perf_counter()
            records = 0
            for holder in sorted(container.data_rights.holders, key=lambda h: h.stage):
                await holder.processor_references(subject)
                outcome = await holder.erase(subject)
                records += outcome.deleted + outcome.pseudonymised
            erased[subject] = (time.perf_counter() - started, tracemalloc.get_traced_memory()[1] / 1e6, records)
            tracemalloc.stop()
        (fresh_s, fresh_peak, _), (long_s, long_peak, records) = erased[short], erased[long]
        print(
            f"{name:9} erasure's records: new subject {fresh_s:6.2f} s (Python peak {fresh_peak:6.2f} MB) |"
            f" {generations:,} generations {long_s:6.2f} s (Python peak {long_peak:6.2f} MB); {records:,} records"
            " deleted or pseudonymised"
        )
    finally:
        await container.aclose()
        await database.dispose()


class _CountingSink:
    """Reads each record and encodes it as the ZIP writer does, keeping only the counts."""

    def __init__(self) -> None:
        self.records: dict[str, int] = {}

    async def write_records(self, category: str, description: str, records: Any) -> None:
        count = 0
        if isinstance(records, AsyncIterable):
            async for record in records:
                json.dumps(record, ensure_ascii=False, default=str)
                count += 1
        else:
            for record in records:
                json.dumps(record, ensure_ascii=False, default=str)
                count += 1
        self.records[category] = count

    async def write_file(self, path: str, description: str, chunks: AsyncIterable[bytes]) -> None:
        async for _ in chunks:
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=20_000)
    args = parser.parse_args()
    header = (
        f"history: the access report, the export's and the erasure's records of a subject with {args.generations:,}"
        " generations' history against a new subject (ratio: long history / short; 1.0 = does not grow)"
    )
    return asyncio.run(on_every_backend(header, lambda n, u, w: bench(n, u, w, args.generations)))


if __name__ == "__main__":
    raise SystemExit(main())
