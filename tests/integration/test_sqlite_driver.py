"""The embedded profile's aiosqlite adapter (``sqlite_driver.OneCallDbapi``): each statement one call on aiosqlite's
thread instead of four, and everything SQLAlchemy reads of a cursor the same as through its own adapter (rows, row
counts, last row ids, ``RETURNING``, ``executemany``, errors)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from dreamina.adapters.sql.sqlite_driver import OneCallDbapi


def _engine(path: Path, one_call: bool) -> AsyncEngine:
    options: dict[str, Any] = {"module": OneCallDbapi()} if one_call else {}
    return create_async_engine(f"sqlite+aiosqlite:///{path}", poolclass=NullPool, **options)


async def _outcomes(engine: AsyncEngine) -> list[object]:
    """What a unit of work reads of its statements, on a fresh table."""
    seen: list[object] = []
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER)"))
        inserted = await connection.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        seen += [inserted.rowcount, inserted.lastrowid]
        many = await connection.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [
                {"name": "b", "n": 2},
                {"name": "c", "n": 2},
                {"name": "d", "n": 3},
            ],
        )
        seen.append(many.rowcount)
        updated = await connection.execute(text("UPDATE t SET n = n + 10 WHERE n = :n"), {"n": 2})
        seen.append(updated.rowcount)
        returned = await connection.execute(text("INSERT INTO t (name, n) VALUES ('e', 5) RETURNING id, name"))
        seen.append([tuple(row) for row in returned])
        selected = await connection.execute(text("SELECT id, name, n FROM t ORDER BY id"))
        seen += [list(selected.keys()), [tuple(row) for row in selected]]
        nothing = await connection.execute(text("SELECT id FROM t WHERE n < 0"))
        seen.append(nothing.first())
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (name, n) VALUES ('a', 9)"))
        seen.append((await connection.execute(text("SELECT count(*) FROM t"))).scalar_one())
    return seen


async def test_the_one_call_adapter_answers_what_sqlalchemys_own_does(tmp_path: Path) -> None:
    plain, one_call = _engine(tmp_path / "plain.db", False), _engine(tmp_path / "one.db", True)
    try:
        expected = await _outcomes(plain)
        assert await _outcomes(one_call) == expected
        assert expected[:4] == [1, 1, 3, 2]
    finally:
        await plain.dispose()
        await one_call.dispose()


async def test_a_statement_is_one_call_on_aiosqlites_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", "?"))
        return await real(self, fn, *args, **kwargs)

    async def statement_calls(engine: AsyncEngine) -> int:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))  # the connection is made and set up
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
            calls.clear()
            rows = (await connection.execute(text("SELECT :a, :b"), {"a": 1, "b": "two"})).all()
            monkeypatch.setattr(aiosqlite.Connection, "_execute", real)
            assert [tuple(row) for row in rows] == [(1, "two")]
        return len(calls)

    plain, one_call = _engine(tmp_path / "plain.db", False), _engine(tmp_path / "one.db", True)
    try:
        assert await statement_calls(plain) == 4  # a cursor, execute, fetchall, close: the cost this removes
        assert await statement_calls(one_call) == 1
    finally:
        await plain.dispose()
        await one_call.dispose()
