"""PostgreSQL: the analytics events lose their index by day and event name (on the partitioned table and so on every
partition); SQLite keeps it

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29 22:00:00

Written by hand. On PostgreSQL each day of ``analytics_events`` is a partition of its own (migration ``0017``): a
query by day reads its days' partitions whole, which the planner finds by their bounds, and the daily summary groups
by feature too, which the index does not hold. Nothing reads along it, yet every stored event wrote an entry, and
every day the retention sweep drops carries its files, the largest of a dropped day's after the table's own
(``bench/retention.py``). SQLite keeps one plain table, whose retention batches go oldest day first along the index
(``models_consent.AnalyticsEventRow`` makes it there alone). The downgrade makes it again, on every partition.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_analytics_events_day", table_name="analytics_events")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_analytics_events_day", "analytics_events", ["day", "name"])
