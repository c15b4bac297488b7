"""A page of generations reads the subject's data key once, not once per item (the list was N+1: twenty reads of
the same key for a full page, 1% of a bare read's throughput in bench/http_vs_bare.py); the page's one statement
brings it, with the references. Counted on SQL backends as
the statements the database receives while the page is served: SQLAlchemy's, and the read-only units of work's driver
reads, which go straight to asyncpg on PostgreSQL (``repository_kit.DriverConnection``) and to a reader thread's
connection on SQLite (``sqlite_reads.SqliteReads``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dreamina.adapters.sql.repository_kit import DriverConnection
from dreamina.adapters.sql.sqlite_reads import SqliteReads
from tests.e2e.helpers import signed_in
from tests.http_client import AsyncTestClient


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    driver_fetch = DriverConnection.fetch

    async def count_driver_reads(self: DriverConnection, session: Any, sql: str, args: list[Any]) -> list[Any]:
        seen.append(sql)
        return await driver_fetch(self, session, sql, args)

    sqlite_fetch = SqliteReads._fetch

    def count_sqlite_reads(self: SqliteReads, sql: str, args: list[Any]) -> list[Any]:
        seen.append(sql)
        return sqlite_fetch(self, sql, args)

    monkeypatch.setattr(DriverConnection, "fetch", count_driver_reads)
    monkeypatch.setattr(SqliteReads, "_fetch", count_sqlite_reads)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


async def test_a_full_page_costs_the_same_statements_as_one_item(
    client: AsyncTestClient, statements: list[str], request: pytest.FixtureRequest
) -> None:
    if "memory" in request.node.name:
        pytest.skip("the memory store runs no statements")
    headers = await signed_in(client, "pages@example.com")
    body = {"kind": "image", "prompt": "a lighthouse at dusk"}
    assert (await client.post("/v1/generations", json=body, headers=headers)).status_code == 202
    await client.get("/v1/generations", headers=headers)  # warm: the token is checked and cached
    statements.clear()
    one = await client.get("/v1/generations", headers=headers)
    assert one.status_code == 200 and len(one.json()["items"]) == 1
    for_one = [s for s in statements if "subject_keys" in s]
    total_one = len(statements)
    for _ in range(9):
        assert (await client.post("/v1/generations", json=body, headers=headers)).status_code == 202
    statements.clear()
    ten = await client.get("/v1/generations", headers=headers)
    assert ten.status_code == 200 and len(ten.json()["items"]) == 10
    assert len([s for s in statements if "subject_keys" in s]) == len(for_one) == 1
    assert len(statements) == total_one, statements
    # the page brings its references and the subject's key: one statement (asyncpg, or an SQLite reader thread)
    serving_the_page = [s for s in statements if "auth_sessions" not in s]  # the token check aside
    assert len(serving_the_page) == 1, statements
