"""children: age review instead of suspension, reports about staff escalated to admins, the holder's statement, and
an inbox of received reports matched after the answer (so the route's timing reveals nothing)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 08:00:00

Written by hand from ``models_child_reports``; runs on SQLite and PostgreSQL alike. Accounts a still open report
suspended under the old rule are put under age review (sign-in back, nothing new created until staff decide).
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC

_accounts = sa.table("accounts", sa.column("id", GUID(length=16)), sa.column("status", sa.String()))
_reports = sa.table(
    "child_reports",
    sa.column("subject_id", GUID(length=16)),
    sa.column("status", sa.String()),
    sa.column("suspended_account", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("child_reports") as batch:
        batch.add_column(sa.Column("escalated", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("statement_ciphertext", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("statement_at", DateTimeUTC(timezone=True), nullable=True))
    op.create_table(
        "child_report_inbox",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("received_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_report_inbox")),
    )
    op.create_index("ix_child_report_inbox_received_at", "child_report_inbox", ["received_at"])
    under_open_report = sa.select(_reports.c.subject_id).where(
        _reports.c.status == "open", _reports.c.suspended_account == sa.true()
    )
    op.execute(
        _accounts.update()
        .where(_accounts.c.status == "suspended", _accounts.c.id.in_(under_open_report))
        .values(status="age_review")
    )


def downgrade() -> None:
    op.execute(_accounts.update().where(_accounts.c.status == "age_review").values(status="suspended"))  # old rule
    op.drop_index("ix_child_report_inbox_received_at", table_name="child_report_inbox")
    op.drop_table("child_report_inbox")
    with op.batch_alter_table("child_reports") as batch:
        batch.drop_column("statement_at")
        batch.drop_column("statement_ciphertext")
        batch.drop_column("escalated")
