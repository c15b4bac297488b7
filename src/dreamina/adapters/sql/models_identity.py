"""Tables of the identity module (declared in :mod:`dreamina.domain.identity.data_map`): accounts, sessions,
one-time tokens, staff roles."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    email_index: Mapped[str] = mapped_column(String, unique=True, index=True)
    email_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    display_name_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    birth_date_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    country: Mapped[str] = mapped_column(String)
    region: Mapped[str | None] = mapped_column(String, nullable=True)
    password_hash: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    # the generation sweep finds the accounts with a setting through this index (migration 0008)
    content_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class AuthSessionRow(Base):
    __tablename__ = "auth_sessions"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    account_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String, unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    device_class: Mapped[str | None] = mapped_column(String, nullable=True)


class AccountTokenRow(Base):
    __tablename__ = "account_tokens"
    __table_args__ = (
        Index("ix_account_tokens_token_hash", "purpose", "token_hash", unique=True),
        Index("ix_account_tokens_account_id", "account_id", "purpose"),
        Index("ix_account_tokens_expires_at", "expires_at"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    account_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("accounts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String)
    token_hash: Mapped[str] = mapped_column(String)
    payload_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class StaffMemberRow(Base):
    __tablename__ = "staff_members"

    account_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    role: Mapped[str] = mapped_column(String)
    granted_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
