"""Migration 0025 on SQLite and PostgreSQL: the wallets gain a running balance, which the wallets it finds do not
have yet (NULL: the migration reads no ledger); the service counts each one's ledger at its first lock, every entry
of the history included, and keeps it from then on. The downgrade drops the column and leaves the ledger whole."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import advanced_alchemy.types
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dreamina import bootstrap
from dreamina.adapters.clock import MovableClock
from dreamina.adapters.sql.database import downgrade, upgrade
from dreamina.domain.billing.credits import Credits

from .runs import run_sync

AT = datetime(2026, 12, 1, tzinfo=UTC)
GUID = advanced_alchemy.types.GUID(length=16)
STAMP = advanced_alchemy.types.DateTimeUTC(timezone=True)

_wallets = sa.table(
    "billing_wallets",
    sa.column("subject_id", GUID),
    sa.column("revision", sa.Integer()),
    sa.column("updated_at", STAMP),
)
_ledger = sa.table(
    "credit_ledger_entries",
    sa.column("id", GUID),
    sa.column("subject_id", GUID),
    sa.column("kind", sa.String()),
    sa.column("amount", sa.Integer()),
    sa.column("idempotency_key", sa.String()),
    sa.column("reference", sa.String()),
    sa.column("created_at", STAMP),
)


def _columns(connection: Connection) -> set[str]:
    return {c["name"] for c in sa.inspect(connection).get_columns("billing_wallets")}


async def test_wallets_gain_a_balance_counted_at_their_first_lock(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, "0024")
    subject, unlocked = uuid.uuid4(), uuid.uuid4()
    amounts = [25, *(-3 if n % 2 else 3 for n in range(200)), -5]

    def history(connection: Connection) -> None:
        connection.execute(_wallets.insert().values(subject_id=subject, revision=7, updated_at=AT))
        rows = [_entry(who, amount, n) for who in (subject, unlocked) for n, amount in enumerate(amounts)]
        connection.execute(_ledger.insert(), rows)

    await run_sync(url, history)
    await upgrade(url, "0025")
    assert "balance" in await run_sync(url, _columns)
    found = await run_sync(url, lambda c: c.execute(sa.text("SELECT balance, revision FROM billing_wallets")).all())
    assert [tuple(row) for row in found] == [(None, 7)]

    database = bootstrap.sql_database(url)
    try:
        credits = Credits(uow=database.unit_of_work, clock=MovableClock(AT), welcome_credits=0)
        assert await credits.balance(subject) == await credits.balance(unlocked) == 20
        await credits.reserve(subject, uuid.uuid4(), 20)  # the first lock counts the whole history
        assert await credits.balance(subject) == 0
        await credits.reserve(unlocked, uuid.uuid4(), 1)  # no wallet yet: made with the count
        assert await credits.balance(unlocked) == 19
    finally:
        await database.dispose()
    assert sorted(await run_sync(url, _balances)) == [0, 19]
    await run_sync(url, lambda c: c.execute(_ledger.insert(), [_entry(subject, 5, n) for n in range(3)]))
    assert sorted(await run_sync(url, _balances)) == [15, 19]  # whoever writes an entry: the database counts it

    await downgrade(url, "0024")
    assert "balance" not in await run_sync(url, _columns)
    await run_sync(url, lambda c: c.execute(_ledger.insert(), [_entry(subject, 1, 0)]))  # no trigger left behind
    count = await run_sync(url, lambda c: c.execute(sa.text("SELECT count(*) FROM credit_ledger_entries")).scalar())
    assert count == 2 * len(amounts) + 2 + 3 + 1
    await upgrade(url, "head")
    assert await run_sync(url, _balances) == [None, None]  # each counted again at its next lock


def _balances(connection: Connection) -> list[int | None]:
    return list(connection.execute(sa.text("SELECT balance FROM billing_wallets")).scalars())


def _entry(subject: uuid.UUID, amount: int, n: int) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "subject_id": subject,
        "kind": "purchase",
        "amount": amount,
        "idempotency_key": f"test:{uuid.uuid4()}",
        "reference": None,
        "created_at": AT + timedelta(seconds=n),
    }
