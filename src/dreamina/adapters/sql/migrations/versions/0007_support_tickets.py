"""support: tickets from the contact form (policy section 11)

Revision ID: 0007
Revises: 0008
Create Date: 2026-11-27 10:00:00

Written by hand from ``models_support``; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "support_tickets",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=True),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        _time("received_at"),
        _time("updated_at"),
        sa.Column("subject_line_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("message_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("reply_to_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("replies_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("jurisdiction", sa.String(), nullable=True),
        _time("due_at", True),
        sa.Column("flag", sa.String(), nullable=True),
        _time("answered_at", True),
        _time("closed_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_tickets")),
    )
    op.create_index("ix_support_tickets_subject_id", "support_tickets", ["subject_id", "received_at"])
    op.create_index("ix_support_tickets_queue", "support_tickets", ["category", "status", "due_at"])
    op.create_index("ix_support_tickets_closed", "support_tickets", ["category", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_support_tickets_closed", table_name="support_tickets")
    op.drop_index("ix_support_tickets_queue", table_name="support_tickets")
    op.drop_index("ix_support_tickets_subject_id", table_name="support_tickets")
    op.drop_table("support_tickets")
