"""Migration 0015 on SQLite and PostgreSQL: the table of kept answers appears with one row per (subject, route, key),
and goes again on downgrade."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import advanced_alchemy.types
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dreamina.adapters.sql.database import downgrade, upgrade

from .runs import run_sync

AT = datetime(2026, 11, 28, tzinfo=UTC)

_records = sa.table(
    "idempotency_records",
    sa.column("subject_id", advanced_alchemy.types.GUID(length=16)),
    sa.column("route", sa.String()),
    sa.column("key", sa.String()),
    sa.column("fingerprint", sa.String()),
    sa.column("status", sa.Integer()),
    sa.column("body", sa.String()),
    sa.column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True)),
)


def _tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def test_kept_answers_table_up_and_down(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, "0014")
    assert "idempotency_records" not in await run_sync(url, _tables)
    await upgrade(url, "0015")
    subject = uuid.uuid4()

    def answer(connection: Connection, key: str = "k") -> None:
        row = {"subject_id": subject, "route": "POST /v1/uploads", "key": key, "fingerprint": "f", "status": 201}
        connection.execute(_records.insert().values(**row, body="{}", created_at=AT))

    await run_sync(url, answer)
    await run_sync(url, lambda c: answer(c, "other"))
    with pytest.raises(sa.exc.IntegrityError):
        await run_sync(url, answer)  # the same subject, route and key twice
    await downgrade(url, "0014")
    assert "idempotency_records" not in await run_sync(url, _tables)
