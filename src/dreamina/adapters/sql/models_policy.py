"""Tables of published policy versions and their acceptances (declared in :mod:`dreamina.domain.consent.data_map`)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class PolicyVersionRow(Base):
    __tablename__ = "policy_versions"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True, index=True)
    content_sha256: Mapped[str] = mapped_column(String)
    text: Mapped[str] = mapped_column(Text)
    last_updated: Mapped[date] = mapped_column(Date)
    effective_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    published_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class PolicyAcceptanceRow(Base):
    __tablename__ = "policy_acceptances"
    # Leading subject_id serves the per-subject look-up; the time column serves its "oldest first" order.
    __table_args__ = (Index("ix_policy_acceptances_subject_id", "subject_id", "accepted_at"),)

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    policy_version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String)
    method: Mapped[str] = mapped_column(String)
    accepted_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class PolicyNoticeRunRow(Base):
    __tablename__ = "policy_notice_runs"

    policy_version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String, index=True)
    notices_sent: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
