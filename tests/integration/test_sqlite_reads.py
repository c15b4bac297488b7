"""The read-only units of work's driver reads on an SQLite file (``sqlite_reads.SqliteReads``): one call on a reader
thread per statement, past SQLAlchemy. The answers themselves are compared with SQLAlchemy's own execution in
``tests/contract/test_read_only_units_of_work.py``; here, what the threads must never do: write, read a stale
snapshot, hang on a lock, or stay open."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dreamina import bootstrap
from dreamina.adapters.sql.database import Database, upgrade
from dreamina.adapters.sql.repositories_identity import SqlAccountRepository
from dreamina.adapters.sql.sqlite_reads import SqliteReads
from dreamina.domain.privacy.errors import StoreBusy

from ..contract.test_repositories_contract import make_account


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    path = tmp_path / "dreamina.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    database = bootstrap.sql_database(url)
    try:
        yield database, path
    finally:
        await database.dispose()


def _reads(database: Database) -> SqliteReads:
    reads = database._sqlite_reads
    assert reads is not None
    return reads


async def test_each_read_sees_the_last_commit_and_runs_on_a_reader_thread(database: tuple[Database, Path]) -> None:
    """Autocommit: no snapshot is held between reads, so a reader that read before a commit sees it on its next
    read, as each statement on PostgreSQL does."""
    db, _ = database
    reads = _reads(db)
    account = make_account()
    async with db.reader() as read:
        assert await read.accounts.get(account.id) is None
        async with db.unit_of_work() as uow:
            await uow.accounts.add(account)
            await uow.commit()
        assert await read.accounts.get(account.id) == account
    assert reads._opened, "the reads ran on the reader threads' own connections"


async def test_a_reader_thread_cannot_write(database: tuple[Database, Path]) -> None:
    db, _ = database
    reads = _reads(db)
    await reads.rows(SqlAccountRepository._by_id, {"account_id": make_account().id})  # a thread opens its connection
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await asyncio.get_running_loop().run_in_executor(reads._executor, reads._fetch, "DELETE FROM accounts", [])


async def test_a_lock_held_past_the_busy_timeout_is_store_busy(database: tuple[Database, Path]) -> None:
    """Another process holding the database exclusively past the busy timeout: the read answers ``StoreBusy`` (503
    with Retry-After), as a write through the engine does, rather than an error."""
    db, path = database
    reads = SqliteReads(path, db.unit_of_work_engine.dialect, busy_timeout_ms=50)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("DELETE FROM accounts")
        with pytest.raises(StoreBusy):
            await reads.rows(SqlAccountRepository._by_id, {"account_id": make_account().id})
    finally:
        holder.close()
        await reads.close()


async def test_closing_closes_every_connection_and_refuses_later_reads(database: tuple[Database, Path]) -> None:
    db, path = database
    reads = SqliteReads(path, db.unit_of_work_engine.dialect, busy_timeout_ms=1000, threads=3)
    await asyncio.gather(
        *(reads.rows(SqlAccountRepository._by_id, {"account_id": make_account().id}) for _ in range(30))
    )
    opened = list(reads._opened)
    assert opened
    await reads.close()
    for connection in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")
    with pytest.raises(RuntimeError, match="closed"):
        await reads.rows(SqlAccountRepository._by_id, {"account_id": make_account().id})
