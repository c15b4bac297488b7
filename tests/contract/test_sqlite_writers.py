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
