"""SQLite as a real embedded store (issue 13, finding 2): one writer at a time, queued instead of refused.

With deferred transactions, a unit of work that read and then wrote could not upgrade a snapshot another writer had
moved past ("database is locked", whatever the busy timeout), so concurrent writes answered 503. Now this process's
units of work take turns and begin ``IMMEDIATE``; another process's writer is waited for up to the busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dreamina.adapters.sql.database import Database, upgrade
from dreamina.bootstrap import sql_database
from dreamina.ports.identity import Account

from .test_repositories_contract import make_account


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}"
    await upgrade(url)
    database = sql_database(url)
    try:
        yield database
    finally:
        await database.dispose()


async def test_writers_that_read_first_take_turns_instead_of_failing(database: Database) -> None:
    accounts = [make_account() for _ in range(40)]

    async def read_then_write(account: Account) -> None:
        async with database.unit_of_work() as uow:
            assert await uow.accounts.get(account.id) is None  # the read that used to pin a stale snapshot
            await asyncio.sleep(0)  # let every other unit of work begin and read too
            await uow.accounts.add(account)
            await uow.commit()

    await asyncio.gather(*(read_then_write(a) for a in accounts))
    async with database.unit_of_work() as check:
        assert [await check.accounts.get(a.id) for a in accounts] == accounts


async def test_a_unit_of_work_opened_inside_another_reads_committed_state(database: Database) -> None:
    """A nested unit of work in the same task cannot wait for the writer turn its own task holds: it reads."""
    committed, pending = make_account(), make_account()
    async with database.unit_of_work() as uow:
        await uow.accounts.add(committed)
        await uow.commit()
    async with database.unit_of_work() as outer:
        await outer.accounts.add(pending)
        async with database.unit_of_work() as inner:
            assert await inner.accounts.get(committed.id) == committed
            assert await inner.accounts.get(pending.id) is None
        await outer.commit()
    async with database.unit_of_work() as check:
        assert await check.accounts.get(pending.id) == pending


async def test_a_task_started_inside_a_unit_of_work_that_outlives_it_gets_its_own_turn(database: Database) -> None:
    account = make_account()
    release = asyncio.Event()

    async def later() -> None:
        await release.wait()
        async with database.unit_of_work() as uow:  # the turn it inherited is over: it writes normally
            await uow.accounts.add(account)
            await uow.commit()

    async with database.unit_of_work():
        background = asyncio.create_task(later())
    release.set()
    await asyncio.wait_for(background, timeout=10)
    async with database.unit_of_work() as check:
        assert await check.accounts.get(account.id) == account


async def test_a_write_waits_for_another_process_holding_the_write_lock(database: Database, tmp_path: Path) -> None:
    """Another process (the CLI, a worker) holding SQLite's write lock for a while delays a write, never fails it."""
    other = sqlite3.connect(tmp_path / "writers.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        account = make_account()

        async def write() -> None:
            async with database.unit_of_work() as uow:
                await uow.accounts.add(account)
                await uow.commit()

        writing = asyncio.create_task(write())
        await asyncio.sleep(1.0)
        assert not writing.done()  # waiting for the other process's write lock, not refused
        other.execute("COMMIT")
        await asyncio.wait_for(writing, timeout=10)
        async with database.unit_of_work() as check:
            assert await check.accounts.get(account.id) == account
    finally:
        other.close()


async def test_readers_are_unaffected_by_a_writer_holding_its_turn(database: Database) -> None:
    """Issue 13: writes are serialised, readers are not. A read-only use case (``GET /v1/me``, the generations list,
    the consent choice) reads beside a writer mid-transaction, sees the last commit, and never keeps a write."""
    committed, pending = make_account(), make_account()
    async with database.unit_of_work() as uow:
        await uow.accounts.add(committed)
        await uow.commit()
    writer_holds_turn, writer_may_finish = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with database.unit_of_work() as uow:
            await uow.accounts.add(pending)
            writer_holds_turn.set()
            await writer_may_finish.wait()
            await uow.commit()

    writer = asyncio.create_task(slow_writer())
    await writer_holds_turn.wait()
    async with asyncio.timeout(5):  # a unit of work that may write would wait here until the writer finished
        reads = [database.reader() for _ in range(10)]
        for reader in reads:
            async with reader:
                assert await reader.accounts.get(committed.id) == committed
                assert await reader.accounts.get(pending.id) is None  # not committed yet
    writer_may_finish.set()
    await writer
    async with database.reader() as reader:
        assert await reader.accounts.get(pending.id) == pending
        await reader.accounts.add(make_account())
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.commit()


async def test_a_unit_of_work_that_may_write_still_waits_for_the_writer(database: Database) -> None:
    """The other side of the rule above: without ``reader`` the turn is awaited (this is what a reader skips)."""
    writer_holds_turn, writer_may_finish = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with database.unit_of_work() as uow:
            await uow.accounts.add(make_account())
            writer_holds_turn.set()
            await writer_may_finish.wait()
            await uow.commit()

    writer = asyncio.create_task(slow_writer())
    await writer_holds_turn.wait()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5), database.unit_of_work():
            pass
    writer_may_finish.set()
    await writer
