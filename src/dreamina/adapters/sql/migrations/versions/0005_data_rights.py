"""data rights: privacy requests and their history, jobs, erasure completions, restrictions

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-25 14:30:00

Written by hand from ``models_data_rights``; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC
JsonB = advanced_alchemy.types.JsonB


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("jurisdiction", sa.String(), nullable=False),
        _time("received_at"),
        _time("due_at"),
        _time("updated_at"),
        sa.Column("details_ciphertext", sa.LargeBinary(), nullable=True),
        _time("paused_since", True),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        _time("extended_at", True),
        sa.Column("extension_reason", sa.String(), nullable=True),
        sa.Column("flag", sa.String(), nullable=True),
        sa.Column("code_hash", sa.String(), nullable=True),
        _time("code_expires_at", True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        _time("verified_at", True),
        _time("scheduled_for", True),
        sa.Column("outcome", JsonB, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index("ix_privacy_requests_subject_id", "privacy_requests", ["subject_id", "received_at"])
    op.create_index("ix_privacy_requests_status_due", "privacy_requests", ["status", "due_at"])

    op.create_table(
        "privacy_request_events",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("request_id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("actor_kind", sa.String(), nullable=False),
        sa.Column("actor_id", GUID(length=16), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        _time("occurred_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_request_events")),
    )
    op.create_index("ix_privacy_request_events_request_id", "privacy_request_events", ["request_id", "occurred_at"])
    op.create_index("ix_privacy_request_events_subject_id", "privacy_request_events", ["subject_id"])

    op.create_table(
        "privacy_jobs",
        sa.Column("request_id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        _time("run_after"),
        _time("updated_at"),
        sa.Column("completion_id", GUID(length=16), nullable=False),
        sa.Column("steps_done", JsonB, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("archive_key", sa.String(), nullable=True),
        sa.Column("archive_bytes", sa.BigInteger(), nullable=True),
        _time("expires_at", True),
        sa.Column("processor_calls", JsonB, nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_privacy_jobs")),
    )
    op.create_index("ix_privacy_jobs_state_run_after", "privacy_jobs", ["state", "run_after"])
    op.create_index("ix_privacy_jobs_subject_id", "privacy_jobs", ["subject_id"])

    op.create_table(
        "erasure_completions",
        sa.Column("id", GUID(length=16), nullable=False),
        _time("completed_at"),
        sa.Column("outcome", JsonB, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_completions")),
    )
    op.create_table(
        "processing_restrictions",
        sa.Column("subject_id", GUID(length=16), nullable=False),
        _time("restricted_at"),
        sa.Column("reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_processing_restrictions")),
    )


def downgrade() -> None:
    op.drop_table("processing_restrictions")
    op.drop_table("erasure_completions")
    op.drop_index("ix_privacy_jobs_subject_id", table_name="privacy_jobs")
    op.drop_index("ix_privacy_jobs_state_run_after", table_name="privacy_jobs")
    op.drop_table("privacy_jobs")
    op.drop_index("ix_privacy_request_events_subject_id", table_name="privacy_request_events")
    op.drop_index("ix_privacy_request_events_request_id", table_name="privacy_request_events")
    op.drop_table("privacy_request_events")
    op.drop_index("ix_privacy_requests_status_due", table_name="privacy_requests")
    op.drop_index("ix_privacy_requests_subject_id", table_name="privacy_requests")
    op.drop_table("privacy_requests")
