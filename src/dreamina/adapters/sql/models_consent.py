"""Tables of the consent module (consent history, objections, improvement choices, policy notices, analytics)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")


class ConsentRecordRow(Base):
    __tablename__ = "consent_records"
    # ``seq`` orders the history: several records can share one timestamp (a sign-in copying a device's choice).
    __table_args__ = (
        Index("ix_consent_records_subject_id", "subject_id", "seq"),
        Index("ix_consent_records_device_key", "device_key", "seq"),
        Index("ix_consent_records_subject_recorded", "subject_id", "recorded_at"),
    )

    seq: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=True)
    id: Mapped[UUID] = mapped_column(GUID, unique=True)
    subject_id: Mapped[UUID | None] = mapped_column(GUID, nullable=True)
    device_key: Mapped[str | None] = mapped_column(String, nullable=True)
    functional: Mapped[bool] = mapped_column(Boolean)
    analytics: Mapped[bool] = mapped_column(Boolean)
    marketing: Mapped[bool] = mapped_column(Boolean)
    sale_share_opt_out: Mapped[bool] = mapped_column(Boolean)
    gpc: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String)
    policy_version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String)
    recorded_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class ObjectionRow(Base):
    __tablename__ = "objections"

    subject_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    purpose: Mapped[str] = mapped_column(String, primary_key=True)
    objected: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class ImprovementChoiceRow(Base):
    __tablename__ = "improvement_choices"
    # ``seq`` orders the history (append-only, like consent_records).
    __table_args__ = (Index("ix_improvement_choices_subject_id", "subject_id", "seq"),)

    seq: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=True)
    id: Mapped[UUID] = mapped_column(GUID, unique=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    allowed: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String)
    policy_version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String)
    recorded_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class PolicyNoticeRow(Base):
    __tablename__ = "policy_notices"
    __table_args__ = (
        UniqueConstraint("subject_id", "policy_version", name="uq_policy_notices_subject_version"),
        Index("ix_policy_notices_policy_version", "policy_version"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    policy_version: Mapped[int] = mapped_column(Integer)
    effective_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    notified_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class AnalyticsEventRow(Base):
    __tablename__ = "analytics_events"
    __table_args__ = (
        # SQLite only: its retention batches go oldest day first along it. On PostgreSQL every day is a partition
        # of its own, found by its bounds and dropped whole (migration 0024).
        Index("ix_analytics_events_day", "day", "name").ddl_if(dialect="sqlite"),
        Index("ix_analytics_events_pseudonym", "pseudonym"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String)
    feature: Mapped[str | None] = mapped_column(String, nullable=True)
    page: Mapped[str | None] = mapped_column(String, nullable=True)
    country: Mapped[str | None] = mapped_column(String, nullable=True)
    browser_family: Mapped[str] = mapped_column(String)
    device_class: Mapped[str] = mapped_column(String)
    pseudonym: Mapped[str] = mapped_column(String)
