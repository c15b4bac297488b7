"""The marketing campaigns' table (declared in :mod:`dreamina.domain.consent.data_map`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class MarketingCampaignRow(Base):
    __tablename__ = "marketing_campaigns"
    __table_args__ = (Index("ix_marketing_campaigns_status", "status", "created_at"),)

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_line: Mapped[str] = mapped_column(String)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    sent: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    cursor: Mapped[UUID | None] = mapped_column(GUID, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
