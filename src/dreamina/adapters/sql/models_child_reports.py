"""The tables of the children's flow (declared in :mod:`dreamina.domain.identity.child_report_data`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class ChildReportRow(Base):
    __tablename__ = "child_reports"
    # the open report of a subject; the staff queue (oldest first); the retention sweeps over closed reports
    __table_args__ = (
        Index("ix_child_reports_subject_id", "subject_id", "status"),
        Index("ix_child_reports_status_received_at", "status", "received_at"),
        Index("ix_child_reports_closed_at", "closed_at"),
        Index(
            "ux_child_reports_open_subject",
            "subject_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    source: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    reports_received: Mapped[int] = mapped_column(Integer)
    suspended_account: Mapped[bool] = mapped_column(Boolean)
    reporter_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reporters_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    details_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    erasure_request_id: Mapped[UUID | None] = mapped_column(GUID, nullable=True)
    reporter_data_deleted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    escalated: Mapped[bool] = mapped_column(Boolean)
    statement_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    statement_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class SealedInboxColumns:
    """The columns of an inbox of reports received sealed whole (child reports, abuse reports)."""

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class ChildReportInboxRow(SealedInboxColumns, Base):
    """Reports received and not yet matched to an account (sealed; matched within seconds)."""

    __tablename__ = "child_report_inbox"
    __table_args__ = (Index("ix_child_report_inbox_received_at", "received_at"),)
