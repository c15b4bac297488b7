"""Rules every store adapter applies to records, so the fakes and the databases refuse exactly the same input.

PostgreSQL cannot store a NUL character in text (SQLite can), and stored times are instants in UTC: both are
refused with ``ValueError`` before anything is written, on every backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime


def check_text(field: str, value: str | None) -> None:
    """Refuse a NUL character: PostgreSQL cannot store one, so no backend accepts it."""
    if value is not None and "\x00" in value:
        raise ValueError(f"{field} must not contain a NUL character")


def check_texts(field: str, values: Iterable[str]) -> None:
    for value in values:
        check_text(field, value)


def check_time(field: str, value: datetime | None) -> None:
    """Refuse a naive datetime: stored times are instants in UTC."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{field} must be timezone-aware")
