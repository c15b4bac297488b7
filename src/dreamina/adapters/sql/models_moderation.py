"""The moderation tables (declared in :mod:`dreamina.domain.generation.moderation_data`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class ModerationRecordRow(Base):
    __tablename__ = "moderation_records"
    # the escalation's count per subject in the window; the retention sweep by age
    __table_args__ = (
        Index("ix_moderation_records_subject_id", "subject_id", "occurred_at"),
        Index("ix_moderation_records_occurred_at", "occurred_at"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    checked: Mapped[str] = mapped_column(String)
    category: Mapped[str] = mapped_column(String)
    input_hmac: Mapped[str] = mapped_column(String)
    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class ModerationReviewRow(Base):
    __tablename__ = "moderation_reviews"
    # one open review per subject; the staff queue (oldest first); the retention sweep over closed reviews
    __table_args__ = (
        Index("ix_moderation_reviews_status_opened_at", "status", "opened_at"),
        Index("ix_moderation_reviews_closed_at", "closed_at"),
        Index("ix_moderation_reviews_subject_id", "subject_id"),
        Index(
            "ux_moderation_reviews_open_subject",
            "subject_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    status: Mapped[str] = mapped_column(String)
    refusals: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
