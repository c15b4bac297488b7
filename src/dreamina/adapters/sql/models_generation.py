"""Tables of the generation module: uploads, generations and their reference links."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, TypeDecorator, type_coerce
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class UploadRow(Base):
    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_subject_id", "subject_id", "created_at"),)

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    object_key: Mapped[str] = mapped_column(String)
    content_type: Mapped[str] = mapped_column(String)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class GenerationRow(Base):
    __tablename__ = "generations"
    # newest-first pages per subject, and the restart sweep over unfinished jobs
    __table_args__ = (
        Index("ix_generations_subject_id", "subject_id", "created_at", "id"),
        Index("ix_generations_status", "status", "created_at"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    kind: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    prompt_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    params: Mapped[dict[str, Any]] = mapped_column(JsonB)
    provider: Mapped[str] = mapped_column(String)
    provider_job_id: Mapped[str | None] = mapped_column(String, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer)
    failure_reason: Mapped[str | None] = mapped_column(String, nullable=True)
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JsonB)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class GenerationReferenceRow(Base):
    __tablename__ = "generation_references"

    generation_id: Mapped[UUID] = mapped_column(
        GUID, ForeignKey("generations.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("uploads.id"), index=True)


class PositionedUploads(TypeDecorator[list[UUID]]):
    """A generation's references folded into its row on an SQLite reader thread: ``position:HEX`` pairs joined by
    commas (SQLite 3.40's ``group_concat`` keeps no promised order, so each pair carries its position), read back as
    the upload ids in order; ``''`` is none. Never written."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        raise TypeError("folded references are only read")

    def process_result_value(self, value: Any, dialect: Any) -> list[UUID] | None:
        if value is None:
            return None
        pairs = (item.partition(":") for item in value.split(",") if item)
        return [upload for _, upload in sorted((int(position), UUID(hex=digits)) for position, _, digits in pairs)]


def folded_upload_ids(expression: Any) -> Any:
    """``expression`` (the folded text) read as :class:`PositionedUploads`."""
    return type_coerce(expression, PositionedUploads())
