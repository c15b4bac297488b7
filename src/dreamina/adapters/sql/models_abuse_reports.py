"""The tables of abuse reports (declared in :mod:`dreamina.domain.generation.abuse_report_data`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base
from dreamina.adapters.sql.models_child_reports import SealedInboxColumns


class AbuseReportRow(Base):
    __tablename__ = "abuse_reports"
    # the staff queue (oldest first); a generation's reports; a subject's (export, erasure); the retention sweeps
    __table_args__ = (
        Index("ix_abuse_reports_status_received_at", "status", "received_at"),
        Index("ix_abuse_reports_generation_id", "generation_id"),
        Index("ix_abuse_reports_owner_id", "owner_id"),
        Index("ix_abuse_reports_reporter_id", "reporter_id"),
        Index("ix_abuse_reports_closed_at", "closed_at"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    generation_id: Mapped[UUID] = mapped_column(GUID)
    owner_id: Mapped[UUID] = mapped_column(GUID)
    reporter_id: Mapped[UUID | None] = mapped_column(GUID, nullable=True)
    reason: Mapped[str] = mapped_column(String)
    via_link: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    reporter_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reporter_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    reporter_data_deleted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class AbuseReportInboxRow(SealedInboxColumns, Base):
    """Abuse reports received and not yet matched to a generation (sealed; matched within seconds)."""

    __tablename__ = "abuse_report_inbox"
    __table_args__ = (Index("ix_abuse_report_inbox_received_at", "received_at"),)
