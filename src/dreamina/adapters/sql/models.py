"""The relational schema: one table per store in the data map, portable between SQLite and PostgreSQL.

Types come from advanced-alchemy so one schema (and one migration history) serves both databases: ``GUID`` is
``uuid`` on PostgreSQL and ``BINARY(16)`` on SQLite, ``DateTimeUTC`` stores UTC and always returns aware
values, ``JsonB`` is ``jsonb`` on PostgreSQL and ``JSON`` text on SQLite. Sealed (encrypted) values are
``LargeBinary``. Strings are unbounded on purpose: a length limit would fail on PostgreSQL and pass on SQLite.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints let alembic drop and alter them on both databases (SQLite batch mode needs the names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    metadata = metadata


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


class SubjectKeyRow(Base):
    __tablename__ = "subject_keys"

    subject_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class AuthSessionRow(Base):
    __tablename__ = "auth_sessions"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    account_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String, unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


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


ROW_TYPES: tuple[type[Base], ...] = (
    AccountRow,
    SubjectKeyRow,
    AuthSessionRow,
    PolicyVersionRow,
    PolicyAcceptanceRow,
    AuditEventRow,
    DisclosureRow,
)


def table_columns() -> list[tuple[str, str]]:
    """Every ``(table, column)`` of the schema, for the data-map check (G1)."""
    return [(table.name, column.name) for table in metadata.sorted_tables for column in table.columns]


from dreamina.adapters.sql import models_billing as _models_billing  # noqa: E402, F401  (registers the tables)
from dreamina.adapters.sql import models_child_reports as _models_child_reports  # noqa: E402, F401 - registers it
from dreamina.adapters.sql import models_consent as _models_consent  # noqa: E402,F401  (completes the metadata)
from dreamina.adapters.sql import models_data_rights as _models_data_rights  # noqa: E402, F401 - registers its tables
from dreamina.adapters.sql import models_generation as models_generation  # noqa: E402  (registers its tables)
from dreamina.adapters.sql import models_support as _models_support  # noqa: E402, F401 - registers its table
