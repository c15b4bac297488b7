"""Migration 0024: on PostgreSQL the analytics events lose their index by day and event name, on the partitioned
table and on every partition (each day is a partition of its own: the planner prunes by day, and the retention
sweep drops whole days, whose index files are a third of what a dropped day's commit removes); SQLite, one plain
table whose batches go oldest day first along it, keeps it. The downgrade brings it back on every partition."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dreamina.adapters.sql.database import downgrade, upgrade

from .runs import run_sync

_INDEX = "ix_analytics_events_day"


def _indexes(connection: Connection) -> dict[str, set[tuple[str, ...]]]:
    """The analytics table's and each of its partitions' indexes, by their columns."""
    if connection.dialect.name == "sqlite":
        found = sa.inspect(connection).get_indexes("analytics_events")
        return {"analytics_events": {tuple(str(c) for c in i["column_names"]) for i in found if i["name"] == _INDEX}}
    rows = connection.execute(
        sa.text(
            "SELECT t.relname, array_agg(a.attname ORDER BY k.n) FROM pg_index x "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE t.relname = 'analytics_events' OR t.relname LIKE 'analytics\\_events\\_p%' "
            "OR t.relname = 'analytics_events_default' GROUP BY t.relname, x.indexrelid"
        )
    )
    by_table: dict[str, set[tuple[str, ...]]] = {}
    for table, columns in rows:
        by_table.setdefault(table, set()).add(tuple(columns))
    return by_table


def _by_day(indexes: dict[str, set[tuple[str, ...]]]) -> set[str]:
    """The tables that have an index on (day, name)."""
    return {table for table, found in indexes.items() if ("day", "name") in found}


async def test_postgres_drops_the_day_index_everywhere_and_sqlite_keeps_it(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, "0023")
    before = await run_sync(url, _indexes)
    await upgrade(url, "head")
    after = await run_sync(url, _indexes)
    if url.startswith("sqlite"):
        assert _by_day(before) == _by_day(after) == {"analytics_events"}
        return
    assert len(before) > 10 and _by_day(before) == set(before)  # the table, its default and its day partitions
    assert _by_day(after) == set()
    assert all(("pseudonym",) in found and ("id", "day") in found for found in after.values())  # the others stay
    await downgrade(url, "0023")
    assert _by_day(await run_sync(url, _indexes)) == set(before)
