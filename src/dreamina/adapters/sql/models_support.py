"""Table of the support module (declared in :mod:`dreamina.domain.support.data_map`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class SupportTicketRow(Base):
    __tablename__ = "support_tickets"
    __table_args__ = (
        Index("ix_support_tickets_subject_id", "subject_id", "received_at"),
        Index("ix_support_tickets_queue", "category", "status", "due_at"),
        Index("ix_support_tickets_closed", "category", "closed_at"),  # the retention sweep
        Index("ix_support_tickets_answered", "category", "answered_at"),  # answered, never closed
        Index("ix_support_tickets_reply_to_index", "reply_to_index"),  # anonymous tickets by a verified address
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID | None] = mapped_column(GUID, nullable=True)
    category: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    subject_line_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    message_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    reply_to_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    replies_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    jurisdiction: Mapped[str | None] = mapped_column(String, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    flag: Mapped[str | None] = mapped_column(String, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    reply_to_index: Mapped[str | None] = mapped_column(String, nullable=True)


class TicketAddressRequestRow(Base):
    """An access or erasure request by an email address, waiting for its mailed link (no address, only hashes)."""

    __tablename__ = "ticket_address_requests"
    __table_args__ = (
        Index("ix_ticket_address_requests_expires_at", "expires_at"),  # the retention sweep
        Index("ix_ticket_address_requests_address_index", "address_index"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    address_index: Mapped[str] = mapped_column(String)
    token_hash: Mapped[str] = mapped_column(String, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
