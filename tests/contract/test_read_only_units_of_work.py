"""Read-only units of work (``reader_of``): what the hot read paths open. They see what is committed and never keep
a write: on SQLite the commit is refused (and they never wait for the writer turn, see test_sqlite_writers.py); on
PostgreSQL they run in autocommit without BEGIN/ROLLBACK, so a write is refused before it reaches the database."""

from __future__ import annotations

import pytest

from dreamina.ports.unit_of_work import UnitOfWorkFactory, reader_of

from .test_repositories_contract import make_account


async def test_a_reader_sees_what_is_committed_and_keeps_no_write(uow_factory: UnitOfWorkFactory) -> None:
    reader = reader_of(uow_factory)
    if reader is uow_factory:
        pytest.skip("the memory store has no separate readers: nothing waits on a writer there")
    committed = make_account()
    async with uow_factory() as uow:
        await uow.accounts.add(committed)
        await uow.commit()
    async with reader() as read:
        assert await read.accounts.get(committed.id) == committed

    stray = make_account()
    with pytest.raises(RuntimeError, match="read-only"):
        async with reader() as read:
            await read.accounts.add(stray)
            await read.commit()
    async with uow_factory() as uow:
        assert await uow.accounts.get(stray.id) is None
