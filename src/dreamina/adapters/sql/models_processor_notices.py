"""The data-rights module's outbound notifications to processors (declared in
:mod:`dreamina.domain.data_rights.data_map`): one row per (request, processor), naming nobody."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class ProcessorNotificationRow(Base):
    __tablename__ = "processor_notifications"
    __table_args__ = (
        UniqueConstraint("request_id", "processor", name="uq_processor_notifications_request_id_processor"),
        Index("ix_processor_notifications_status", "status", "created_at"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    request_id: Mapped[UUID] = mapped_column(GUID)
    completion_id: Mapped[UUID] = mapped_column(GUID)
    processor: Mapped[str] = mapped_column(String)
    method: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    idempotency_key: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String, nullable=True)
