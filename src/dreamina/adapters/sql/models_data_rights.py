"""Tables of the data-rights module: privacy requests, their history and jobs, erasure completions, restrictions
(declared in :mod:`dreamina.domain.data_rights.data_map`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class PrivacyRequestRow(Base):
    __tablename__ = "privacy_requests"
    __table_args__ = (
        Index("ix_privacy_requests_subject_id", "subject_id", "received_at"),
        Index("ix_privacy_requests_status_due", "status", "due_at"),
        Index("ix_privacy_requests_status_updated", "status", "updated_at"),
        Index("ix_privacy_requests_code_expires_at", "code_expires_at"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    type: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    jurisdiction: Mapped[str] = mapped_column(String)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    details_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    paused_since: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    paused_seconds: Mapped[int] = mapped_column(Integer)
    extended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    extension_reason: Mapped[str | None] = mapped_column(String, nullable=True)
    flag: Mapped[str | None] = mapped_column(String, nullable=True)
    code_hash: Mapped[str | None] = mapped_column(String, nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    code_attempts: Mapped[int] = mapped_column(Integer)
    codes_sent: Mapped[int] = mapped_column(Integer)
    verified_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    outcome: Mapped[dict[str, Any]] = mapped_column(JsonB)


class PrivacyRequestEventRow(Base):
    __tablename__ = "privacy_request_events"
    __table_args__ = (
        Index("ix_privacy_request_events_request_id", "request_id", "occurred_at"),
        Index("ix_privacy_request_events_subject_id", "subject_id"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    request_id: Mapped[UUID] = mapped_column(GUID)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    status: Mapped[str] = mapped_column(String)
    actor_kind: Mapped[str] = mapped_column(String)
    actor_id: Mapped[UUID | None] = mapped_column(GUID, nullable=True)
    note: Mapped[str | None] = mapped_column(String, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class PrivacyJobRow(Base):
    __tablename__ = "privacy_jobs"
    __table_args__ = (
        Index("ix_privacy_jobs_state_run_after", "state", "run_after"),
        Index("ix_privacy_jobs_subject_id", "subject_id"),
        Index("ix_privacy_jobs_expires_at", "expires_at"),
    )

    request_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    kind: Mapped[str] = mapped_column(String)
    state: Mapped[str] = mapped_column(String)
    run_after: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    completion_id: Mapped[UUID] = mapped_column(GUID)
    steps_done: Mapped[list[str]] = mapped_column(JsonB)
    attempts: Mapped[int] = mapped_column(Integer)
    archive_key: Mapped[str | None] = mapped_column(String, nullable=True)
    archive_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    processor_calls: Mapped[list[dict[str, Any]]] = mapped_column(JsonB)
    lease_owner: Mapped[str | None] = mapped_column(String, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class ErasureCompletionRow(Base):
    __tablename__ = "erasure_completions"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    completed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    outcome: Mapped[dict[str, Any]] = mapped_column(JsonB)


class ProcessingRestrictionRow(Base):
    __tablename__ = "processing_restrictions"

    subject_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    restricted_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    reason: Mapped[str | None] = mapped_column(String, nullable=True)
