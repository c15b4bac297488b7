"""improvement control: the append-only history of "use my content to improve the service", and whether each
disclosure's hand-off allowed improvement use

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 16:30:00

Written by hand; runs on SQLite and PostgreSQL alike. Disclosures recorded before this revision were made while no
subject could allow improvement use: they get ``improvement_allowed`` false.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC
# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "improvement_choices",
        sa.Column("seq", SEQUENCE, autoincrement=True, nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(), nullable=False),
        sa.Column("recorded_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_improvement_choices")),
        sa.UniqueConstraint("id", name=op.f("uq_improvement_choices_id")),
    )
    op.create_index("ix_improvement_choices_subject_id", "improvement_choices", ["subject_id", "seq"], unique=False)
    with op.batch_alter_table("disclosures") as batch:
        batch.add_column(sa.Column("improvement_allowed", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("disclosures") as batch:
        batch.drop_column("improvement_allowed")
    op.drop_index("ix_improvement_choices_subject_id", table_name="improvement_choices")
    op.drop_table("improvement_choices")
