"""account security: verified email addresses, one-time tokens (verification, email change and its undo, password
reset, sign-in codes), when and on what kind of device each session was last used

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 08:00:00

Written by hand from ``models_identity``; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("email_verified_at", DateTimeUTC(timezone=True), nullable=True))
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("last_used_at", DateTimeUTC(timezone=True), nullable=True))
        batch.add_column(sa.Column("device_class", sa.String(), nullable=True))
    op.create_table(
        "account_tokens",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("account_id", GUID(length=16), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("payload_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("used_at", DateTimeUTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_tokens_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
    )
    op.create_index("ix_account_tokens_token_hash", "account_tokens", ["purpose", "token_hash"], unique=True)
    op.create_index("ix_account_tokens_account_id", "account_tokens", ["account_id", "purpose"])
    op.create_index("ix_account_tokens_expires_at", "account_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_account_tokens_expires_at", table_name="account_tokens")
    op.drop_index("ix_account_tokens_account_id", table_name="account_tokens")
    op.drop_index("ix_account_tokens_token_hash", table_name="account_tokens")
    op.drop_table("account_tokens")
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_column("device_class")
        batch.drop_column("last_used_at")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("email_verified_at")
