"""Tables of the privacy kernel (declared in :mod:`dreamina.domain.privacy.kernel_data`): data keys, audit, disclosures,
the mail outbox.

Types come from advanced-alchemy so one schema (and one migration history) serves both databases: ``GUID`` is
``uuid`` on PostgreSQL and ``BINARY(16)`` on SQLite, ``DateTimeUTC`` stores UTC and always returns aware
values, ``JsonB`` is ``jsonb`` on PostgreSQL and ``JSON`` text on SQLite. Sealed (encrypted) values are
``LargeBinary``. Strings are unbounded on purpose: a length limit would fail on PostgreSQL and pass on SQLite.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class SubjectKeyRow(Base):
    __tablename__ = "subject_keys"

    subject_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject_id", "subject_id", "occurred_at"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    actor_kind: Mapped[str] = mapped_column(String)
    actor_id: Mapped[UUID | None] = mapped_column(GUID, nullable=True)
    action: Mapped[str] = mapped_column(String)
    fields: Mapped[list[str]] = mapped_column(JsonB)
    reason: Mapped[str | None] = mapped_column(String, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class DisclosureRow(Base):
    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_subject_id", "subject_id", "occurred_at"),)

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    processor: Mapped[str] = mapped_column(String)
    categories: Mapped[list[str]] = mapped_column(JsonB)
    purpose: Mapped[str] = mapped_column(String)
    reference: Mapped[str | None] = mapped_column(String, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    improvement_allowed: Mapped[bool] = mapped_column(Boolean, server_default=false())


class MailOutboxRow(Base):
    __tablename__ = "mail_outbox"
    # Delivery walks the due messages oldest first; erasure finds a subject's; retention the oldest queued.
    __table_args__ = (
        Index("ix_mail_outbox_next_attempt_at", "next_attempt_at", "queued_at"),
        Index("ix_mail_outbox_subject_id", "subject_id"),
        Index("ix_mail_outbox_queued_at", "queued_at"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID | None] = mapped_column(GUID, nullable=True)
    kind: Mapped[str] = mapped_column(String)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    queued_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class IdempotencyRecordRow(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (Index("ix_idempotency_records_created_at", "created_at"),)  # the sweep takes the oldest

    subject_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)  # erasure finds a subject's by the key's prefix
    route: Mapped[str] = mapped_column(String, primary_key=True)
    key: Mapped[str] = mapped_column(String, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String)
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
