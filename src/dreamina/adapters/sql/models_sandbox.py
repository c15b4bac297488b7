"""The payment sandbox's table (embedded profile): its checkout sessions and the payment made on each, declared in
:mod:`dreamina.domain.billing.data_map`. Card data is limited to brand, last4 and expiry month/year."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class SandboxSessionRow(Base):
    __tablename__ = "sandbox_checkout_sessions"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    reference: Mapped[str] = mapped_column(String, unique=True)
    customer_id: Mapped[str | None] = mapped_column(String, nullable=True)
    pack_id: Mapped[str] = mapped_column(String)
    description: Mapped[str] = mapped_column(String)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String)
    success_url: Mapped[str] = mapped_column(String)
    cancel_url: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    status: Mapped[str] = mapped_column(String)
    payment_status: Mapped[str] = mapped_column(String)
    pending_debit: Mapped[str | None] = mapped_column(String, nullable=True)
    payment_intent_id: Mapped[str | None] = mapped_column(String, nullable=True, unique=True)
    charge_id: Mapped[str | None] = mapped_column(String, nullable=True)
    card_brand: Mapped[str | None] = mapped_column(String, nullable=True)
    card_last4: Mapped[str | None] = mapped_column(String, nullable=True)
    card_exp_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    card_exp_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount_refunded: Mapped[int] = mapped_column(Integer)
