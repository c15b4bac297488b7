"""generation: uploads, generations, their reference links, processing restrictions

Revision ID: 0003
Revises: 0005
Create Date: 2026-11-25 14:40:00

Written to match ``models_generation``; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC
JsonB = advanced_alchemy.types.JsonB


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("object_key", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index("ix_uploads_subject_id", "uploads", ["subject_id", "created_at"], unique=False)

    op.create_table(
        "generations",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("prompt_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("params", JsonB, nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("provider_job_id", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failure_reason", sa.String(), nullable=True),
        sa.Column("outputs", JsonB, nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
    )
    op.create_index("ix_generations_subject_id", "generations", ["subject_id", "created_at", "id"], unique=False)
    op.create_index("ix_generations_status", "generations", ["status", "created_at"], unique=False)

    op.create_table(
        "generation_references",
        sa.Column("generation_id", GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("upload_id", GUID(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_generation_references_generation_id_generations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"], name=op.f("fk_generation_references_upload_id_uploads")),
        sa.PrimaryKeyConstraint("generation_id", "position", name=op.f("pk_generation_references")),
    )
    op.create_index(op.f("ix_generation_references_upload_id"), "generation_references", ["upload_id"], unique=False)


def downgrade() -> None:
    op.drop_table("generation_references")
    op.drop_table("generations")
    op.drop_table("uploads")
