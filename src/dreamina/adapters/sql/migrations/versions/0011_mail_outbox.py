"""mail outbox: messages written in the same transaction as the change they report, delivered after commit

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 07:00:00

Written by hand from ``models_kernel``; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("queued_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index("ix_mail_outbox_next_attempt_at", "mail_outbox", ["next_attempt_at", "queued_at"])
    op.create_index("ix_mail_outbox_subject_id", "mail_outbox", ["subject_id"])
    op.create_index("ix_mail_outbox_queued_at", "mail_outbox", ["queued_at"])


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_queued_at", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_subject_id", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_next_attempt_at", table_name="mail_outbox")
    op.drop_table("mail_outbox")
