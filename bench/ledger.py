"""Benchmark: what a subject's credit history costs their next charge and their balance.

Every submission reserves its credits after reading the subject's balance, and ``GET /v1/billing/balance`` reads it
too; each generation leaves two ledger entries behind (its hold and its settlement). A subject with a long history
must not pay for it on every charge. Per backend (embedded SQLite, and PostgreSQL when DREAMINA_BENCH_POSTGRES_URL
is set), against a subject whose ledger holds only the welcome grant, measured in the same run:

- ``Credits.balance`` (the balance read, as ``GET /v1/billing/balance`` makes it);
- a charge: ``Credits.reserve`` then ``Credits.release`` of one credit (two units of work, two entries);

for a subject with ``--entries`` earlier entries (default 100,000: 50,000 generations' worth), bulk-loaded. The
ratio is the long history's rate over the short one's: 1.0 is a cost that does not grow with history.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import on_every_backend, rate
from sqlalchemy import insert

from dreamina.adapters.clock import SystemClock
from dreamina.adapters.sql.database import Database, upgrade
from dreamina.adapters.sql.models_billing import CreditLedgerEntryRow
from dreamina.bootstrap import sql_database
from dreamina.domain.billing.credits import Credits

ROUNDS = int(os.environ.get("DREAMINA_BENCH_ROUNDS", "2000"))


async def _load_history(credits: Credits, database: Database, subject: uuid.UUID, entries: int) -> float:
    """``entries`` earlier ledger entries of ``subject`` (holds and their releases, summing to nothing), written
    in bulk in the shape the service writes them, then one charge through the service so its own bookkeeping of
    the subject is in place. Returns the seconds the load took."""
    started = time.perf_counter()
    epoch = datetime(2025, 1, 1, tzinfo=UTC)
    batch = 10_000
    async with database.engine.begin() as connection:
        for first in range(0, entries, batch):
            rows = []
            for n in range(first, min(entries, first + batch)):
                generation = uuid.uuid4()
                hold = n % 2 == 0
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "subject_id": subject,
                        "kind": "reserve" if hold else "release",
                        "amount": -3 if hold else 3,
                        "idempotency_key": f"{'reserve' if hold else 'settle'}:{generation}",
                        "reference": str(generation),
                        "created_at": epoch + timedelta(seconds=n),
                    }
                )
            await connection.execute(insert(CreditLedgerEntryRow), rows)
    await credits.ensure_welcome_grant(subject)
    return time.perf_counter() - started


async def bench(name: str, url: str, workdir: Path, entries: int) -> None:
    await upgrade(url)
    database = sql_database(url)
    try:
        credits = Credits(uow=database.unit_of_work, clock=SystemClock(), welcome_credits=1_000_000)
        short, long = uuid.uuid4(), uuid.uuid4()
        await credits.ensure_welcome_grant(short)
        loaded = await _load_history(credits, database, long, entries)
        print(f"{name:9} {entries:,} entries loaded in {loaded:.1f} s")

        def charge(subject: uuid.UUID) -> object:
            async def cycle() -> None:
                generation = uuid.uuid4()
                await credits.reserve(subject, generation, 1)
                await credits.release(generation)

            return cycle

        rounds = {"balance": ROUNDS, "charge": max(50, ROUNDS // 4)}
        for label, make in (("balance", lambda s: lambda: credits.balance(s)), ("charge", charge)):
            fresh = await rate(make(short), rounds[label])
            seasoned = await rate(make(long), rounds[label])
            print(
                f"{name:9} {label:8} welcome grant only {fresh:9,.0f}/s | {entries:,} entries {seasoned:9,.0f}/s"
                f" | ratio {seasoned / fresh:5.2f}"
            )
    finally:
        await database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    header = (
        f"credit ledger: the balance and a charge of a subject with {args.entries:,} earlier entries against one"
        " with only the welcome grant (ratio: long history / short; 1.0 = does not grow)"
    )
    return asyncio.run(on_every_backend(header, lambda n, u, w: bench(n, u, w, args.entries)))


if __name__ == "__main__":
    raise SystemExit(main())
