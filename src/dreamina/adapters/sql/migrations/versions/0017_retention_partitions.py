"""PostgreSQL: analytics events, audit events and handled payment events become range-partitioned tables (retention
by partition); SQLite unchanged

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 14:00:00

Written by hand; on SQLite it does nothing. On PostgreSQL each table is rebuilt as a declaratively partitioned one
on its time column — ``analytics_events`` per day of ``day``, ``audit_events`` per calendar month of
``occurred_at`` (UTC), ``processed_payment_events`` per month of ``received_at`` — with a default partition (an insert
never fails for lack of a partition), a partition for every period that holds rows and for the current period and
the next ones (the retention sweep makes later ones ahead; ``adapters/sql/partitions.py``, whose naming this
follows), and every existing row copied across in this transaction. A partitioned table's unique constraints must
contain the partition key, so the primary keys become ``(id, day)``, ``(id, occurred_at)`` and
``(event_id, received_at)``; the handled-event mark keeps one row per event id by a lock on the id
(``repositories_billing.py``). Index names stay. The downgrade copies the rows back into plain tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC
JsonB = advanced_alchemy.types.JsonB


class _Table:
    # a plain class: alembic loads this file outside sys.modules, where a dataclass cannot be made

    def __init__(
        self,
        name: str,
        key: str,  # the primary key's column besides the partition column
        column: str,  # the partition column
        *,
        monthly: bool,
        ahead: int,
        columns: tuple[sa.Column[Any], ...],
        indexes: tuple[tuple[str, tuple[str, ...]], ...],
    ) -> None:
        self.name, self.key, self.column = name, key, column
        self.monthly, self.ahead = monthly, ahead
        self.columns, self.indexes = columns, indexes

    def start(self, day: date) -> date:
        return day.replace(day=1) if self.monthly else day

    def following(self, start: date) -> date:
        if not self.monthly:
            return start + timedelta(days=1)
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)

    def partition(self, start: date) -> str:
        return f"{self.name}_p{start:%Y%m}" if self.monthly else f"{self.name}_p{start:%Y%m%d}"

    def bound(self, start: date) -> str:
        return f"'{start:%Y-%m-%d} 00:00:00+00'" if self.monthly else f"'{start:%Y-%m-%d}'"

    @property
    def period_of_rows(self) -> str:
        """SQL: the first day of the period of each row (UTC for timestamps)."""
        if self.monthly:
            return f"date_trunc('month', \"{self.column}\" AT TIME ZONE 'UTC')::date"
        return f'"{self.column}"'

    @property
    def column_list(self) -> str:
        return ", ".join(f'"{column.name}"' for column in self.columns)


def _tables() -> tuple[_Table, ...]:
    return (
        _Table(
            "analytics_events",
            "id",
            "day",
            monthly=False,
            ahead=14,
            columns=(
                sa.Column("id", GUID(length=16), nullable=False),
                sa.Column("day", sa.Date(), nullable=False),
                sa.Column("name", sa.String(), nullable=False),
                sa.Column("feature", sa.String(), nullable=True),
                sa.Column("page", sa.String(), nullable=True),
                sa.Column("country", sa.String(), nullable=True),
                sa.Column("browser_family", sa.String(), nullable=False),
                sa.Column("device_class", sa.String(), nullable=False),
                sa.Column("pseudonym", sa.String(), nullable=False),
            ),
            indexes=(("ix_analytics_events_day", ("day", "name")), ("ix_analytics_events_pseudonym", ("pseudonym",))),
        ),
        _Table(
            "audit_events",
            "id",
            "occurred_at",
            monthly=True,
            ahead=3,
            columns=(
                sa.Column("id", GUID(length=16), nullable=False),
                sa.Column("subject_id", GUID(length=16), nullable=False),
                sa.Column("actor_kind", sa.String(), nullable=False),
                sa.Column("actor_id", GUID(length=16), nullable=True),
                sa.Column("action", sa.String(), nullable=False),
                sa.Column("fields", JsonB, nullable=False),
                sa.Column("reason", sa.String(), nullable=True),
                sa.Column("occurred_at", DateTimeUTC(timezone=True), nullable=False),
            ),
            indexes=(
                ("ix_audit_events_subject_id", ("subject_id", "occurred_at")),
                ("ix_audit_events_occurred_at", ("occurred_at",)),
            ),
        ),
        _Table(
            "processed_payment_events",
            "event_id",
            "received_at",
            monthly=True,
            ahead=3,
            columns=(
                sa.Column("event_id", sa.String(), nullable=False),
                sa.Column("type", sa.String(), nullable=False),
                sa.Column("received_at", DateTimeUTC(timezone=True), nullable=False),
            ),
            indexes=(("ix_processed_payment_events_received_at", ("received_at",)),),
        ),
    )


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _set_aside(table: _Table, suffix: str) -> str:
    """Rename ``table`` out of the way and free its constraint and index names; returns the new name."""
    aside = f"{table.name}_{suffix}"
    op.rename_table(table.name, aside)
    op.execute(f'ALTER TABLE "{aside}" DROP CONSTRAINT "pk_{table.name}"')
    for index, _columns in table.indexes:
        op.execute(f'DROP INDEX "{index}"')
    return aside


def _partitioned(table: _Table) -> None:
    aside = _set_aside(table, "unpartitioned")
    op.create_table(
        table.name,
        *table.columns,
        sa.PrimaryKeyConstraint(table.key, table.column, name=f"pk_{table.name}"),
        postgresql_partition_by=f'RANGE ("{table.column}")',
    )
    for index, columns in table.indexes:
        op.create_index(index, table.name, list(columns))
    op.execute(f'CREATE TABLE "{table.name}_default" PARTITION OF "{table.name}" DEFAULT')
    periods = f'SELECT DISTINCT {table.period_of_rows} FROM "{aside}"'  # noqa: S608 - our own names
    found = op.get_bind().execute(sa.text(periods))
    starts = {table.start(day) for (day,) in found}
    current = table.start(datetime.now(UTC).date())
    for _ in range(table.ahead + 1):
        starts.add(current)
        current = table.following(current)
    for start in sorted(starts):
        op.execute(
            f'CREATE TABLE "{table.partition(start)}" PARTITION OF "{table.name}" '
            f"FOR VALUES FROM ({table.bound(start)}) TO ({table.bound(table.following(start))})"
        )
    op.execute(f'INSERT INTO "{table.name}" ({table.column_list}) SELECT {table.column_list} FROM "{aside}"')  # noqa: S608
    op.drop_table(aside)


def _plain(table: _Table) -> None:
    aside = _set_aside(table, "partitioned")
    op.create_table(
        table.name,
        *table.columns,
        sa.PrimaryKeyConstraint(table.key, name=f"pk_{table.name}"),
    )
    for index, columns in table.indexes:
        op.create_index(index, table.name, list(columns))
    copy = f'INSERT INTO "{table.name}" ({table.column_list}) SELECT {table.column_list} FROM "{aside}"'  # noqa: S608
    op.execute(f'{copy} ORDER BY "{table.column}" ON CONFLICT DO NOTHING')
    op.drop_table(aside)  # its partitions with it


def upgrade() -> None:
    if _postgres():
        for table in _tables():
            _partitioned(table)


def downgrade() -> None:
    if _postgres():
        for table in _tables():
            _plain(table)
