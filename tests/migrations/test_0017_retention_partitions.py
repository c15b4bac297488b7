"""Migration 0017 on SQLite and PostgreSQL: on PostgreSQL analytics events, audit events and handled payment events
become range-partitioned tables (a partition for every period holding rows, the current period and the next ones,
a default partition) with every row kept, partitions the retention sweep recognises as its own; the downgrade
brings back plain tables with the same rows. SQLite is left as it was."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import advanced_alchemy.types
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dreamina import bootstrap
from dreamina.adapters.sql.database import downgrade, upgrade

from .runs import run_sync

GUID = advanced_alchemy.types.GUID(length=16)
UTC_TIME = advanced_alchemy.types.DateTimeUTC(timezone=True)

_analytics = sa.table(
    "analytics_events",
    *(sa.column(name, sa.String()) for name in ("name", "feature", "page", "country", "browser_family")),
    *(sa.column(name, sa.String()) for name in ("device_class", "pseudonym")),
    sa.column("id", GUID),
    sa.column("day", sa.Date()),
)
_audit = sa.table(
    "audit_events",
    sa.column("id", GUID),
    sa.column("subject_id", GUID),
    sa.column("actor_kind", sa.String()),
    sa.column("actor_id", GUID),
    sa.column("action", sa.String()),
    sa.column("fields", advanced_alchemy.types.JsonB),
    sa.column("reason", sa.String()),
    sa.column("occurred_at", UTC_TIME),
)
_marks = sa.table(
    "processed_payment_events",
    sa.column("event_id", sa.String()),
    sa.column("type", sa.String()),
    sa.column("received_at", UTC_TIME),
)

TODAY = datetime.now(UTC).date()
OLD_DAY = TODAY - timedelta(days=300)  # long expired: its partition goes with the next sweep
DAYS = (OLD_DAY, OLD_DAY, TODAY - timedelta(days=3), TODAY)
TIMES = (
    datetime(2020, 2, 10, 8, 0, tzinfo=UTC),
    datetime(2020, 2, 29, 23, 59, 59, tzinfo=UTC),
    datetime.now(UTC) - timedelta(days=40),
)


def _seed(connection: Connection) -> None:
    for day in DAYS:
        traits = {"name": "page_view", "feature": None, "page": "/", "country": "DE", "browser_family": "Firefox"}
        connection.execute(
            _analytics.insert().values(id=uuid.uuid4(), day=day, device_class="desktop", pseudonym="p", **traits)
        )
    for n, at in enumerate(TIMES):
        audit = {"subject_id": uuid.uuid4(), "actor_kind": "system", "actor_id": None, "action": "x"}
        connection.execute(
            _audit.insert().values(id=uuid.uuid4(), fields=["f"], reason=f"r{n}", occurred_at=at, **audit)
        )
        connection.execute(_marks.insert().values(event_id=f"evt_{n}", type="t", received_at=at))


def _rows(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "analytics_events": sorted(connection.execute(sa.select(_analytics)).all(), key=str),
        "audit_events": sorted(connection.execute(sa.select(_audit)).all(), key=str),
        "processed_payment_events": sorted(connection.execute(sa.select(_marks)).all(), key=str),
    }


def _layout(connection: Connection) -> dict[str, tuple[str, list[str], list[str]]]:
    """Per table: its kind (``r`` plain, ``p`` partitioned), its primary key's columns, its partitions."""
    layout = {}
    for table in ("analytics_events", "audit_events", "processed_payment_events"):
        kind = connection.execute(
            sa.text("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
        )
        children = connection.execute(
            sa.text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:t) ORDER BY 1"
            ),
            {"t": table},
        )
        key = sa.inspect(connection).get_pk_constraint(table)["constrained_columns"]
        layout[table] = (str(kind.scalar_one()), key, [name for (name,) in children])
    return layout


def _month(moment: date) -> str:
    return f"{moment:%Y%m}"


async def test_partitioned_up_and_plain_down_with_every_row(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, "0016")
    await run_sync(url, _seed)
    before = await run_sync(url, _rows)
    assert {table: len(rows) for table, rows in before.items()} == {
        "analytics_events": 4,
        "audit_events": 3,
        "processed_payment_events": 3,
    }
    await upgrade(url, "0017")
    assert await run_sync(url, _rows) == before
    postgres = url.startswith("postgresql")
    if postgres:
        layout = await run_sync(url, _layout)
        kind, key, days = layout["analytics_events"]
        assert (kind, key) == ("p", ["id", "day"])
        expected = {f"analytics_events_p{day:%Y%m%d}" for day in DAYS}
        expected |= {f"analytics_events_p{TODAY + timedelta(days=n):%Y%m%d}" for n in range(15)}
        assert set(days) == expected | {"analytics_events_default"}
        for table, column in (("audit_events", "occurred_at"), ("processed_payment_events", "received_at")):
            kind, key, months = layout[table]
            assert (kind, key[1]) == ("p", column)
            assert {f"{table}_p202002", f"{table}_p{_month(TIMES[2])}", f"{table}_p{_month(TODAY)}"} < set(months)
            assert f"{table}_default" in months

    # the sweep's own code finds the migration's partitions: the long-expired ones go whole
    database = bootstrap.sql_database(url, pooled=False)
    try:
        async with database.unit_of_work() as uow:
            dropped = await uow.analytics_events.drop_periods_before(TODAY - timedelta(days=180))
            marks = await uow.billing.drop_event_periods_before(datetime(2021, 1, 1, tzinfo=UTC))
            await uow.commit()
        assert (dropped, marks) == ((2, 2) if postgres else (None, None))
    finally:
        await database.dispose()
    kept = await run_sync(url, _rows)
    assert len(kept["analytics_events"]) == (2 if postgres else 4)

    await downgrade(url, "0016")
    assert await run_sync(url, _rows) == kept
    if postgres:
        assert await run_sync(url, _layout) == {
            "analytics_events": ("r", ["id"], []),
            "audit_events": ("r", ["id"], []),
            "processed_payment_events": ("r", ["event_id"], []),
        }
    await upgrade(url, "head")
    assert await run_sync(url, _rows) == kept
