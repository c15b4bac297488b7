"""privacy job leases: which worker runs an export or erasure and until when, so two workers never run one job

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 08:10:00

Written by hand from ``models_data_rights``; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def upgrade() -> None:
    with op.batch_alter_table("privacy_jobs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(), nullable=True))
        batch.add_column(sa.Column("lease_until", DateTimeUTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("privacy_jobs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
