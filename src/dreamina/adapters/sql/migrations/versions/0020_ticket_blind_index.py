"""support_tickets.reply_to_index (anonymous tickets found by a verified address) and ticket_address_requests

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 16:30:00

Written by hand from ``models_support``; runs on SQLite and PostgreSQL alike.

The new column is a keyed HMAC of the normalised reply-to address; the key derives from the master key, which a
migration does not hold (and must not need: ``dreamina db upgrade`` runs without the service's secrets). So existing
anonymous tickets are indexed at start-up instead: every process that starts runs the support module's
``index_anonymous_tickets`` hook (batches, idempotent), which opens each unindexed ticket's reply-to address with the
ticket's own data key and writes its index.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def upgrade() -> None:
    with op.batch_alter_table("support_tickets") as batch:
        batch.add_column(sa.Column("reply_to_index", sa.String(), nullable=True))
    op.create_index("ix_support_tickets_reply_to_index", "support_tickets", ["reply_to_index"])
    op.create_table(
        "ticket_address_requests",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("address_index", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("used_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_address_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ticket_address_requests_token_hash")),
    )
    op.create_index("ix_ticket_address_requests_expires_at", "ticket_address_requests", ["expires_at"])
    op.create_index("ix_ticket_address_requests_address_index", "ticket_address_requests", ["address_index"])


def downgrade() -> None:
    op.drop_index("ix_ticket_address_requests_address_index", table_name="ticket_address_requests")
    op.drop_index("ix_ticket_address_requests_expires_at", table_name="ticket_address_requests")
    op.drop_table("ticket_address_requests")
    op.drop_index("ix_support_tickets_reply_to_index", table_name="support_tickets")
    with op.batch_alter_table("support_tickets") as batch:
        batch.drop_column("reply_to_index")
