"""Migration 0014 on SQLite and PostgreSQL: an account a still-open child report suspended under the old rule is put
under age review (its holder may sign in again); other suspended accounts (an erasure running) stay suspended."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import advanced_alchemy.types
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dreamina.adapters.sql.database import downgrade, upgrade

from .runs import run_sync

GUID = advanced_alchemy.types.GUID(length=16)
AT = datetime(2026, 11, 1, tzinfo=UTC)

_accounts = sa.table(
    "accounts",
    sa.column("id", GUID),
    sa.column("email_index", sa.String()),
    sa.column("email_ciphertext", sa.LargeBinary()),
    sa.column("birth_date_ciphertext", sa.LargeBinary()),
    sa.column("country", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("status", sa.String()),
    sa.column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True)),
    sa.column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True)),
)
_reports = sa.table(
    "child_reports",
    sa.column("id", GUID),
    sa.column("subject_id", GUID),
    sa.column("source", sa.String()),
    sa.column("status", sa.String()),
    sa.column("received_at", advanced_alchemy.types.DateTimeUTC(timezone=True)),
    sa.column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True)),
    sa.column("reports_received", sa.Integer()),
    sa.column("suspended_account", sa.Boolean()),
)


def _account(connection: Connection, status: str) -> uuid.UUID:
    account_id = uuid.uuid4()
    connection.execute(
        _accounts.insert().values(
            id=account_id,
            email_index=account_id.hex,
            email_ciphertext=b"sealed",
            birth_date_ciphertext=b"sealed",
            country="DE",
            password_hash="hash",
            status=status,
            created_at=AT,
            updated_at=AT,
        )
    )
    return account_id


def _report(connection: Connection, subject: uuid.UUID, status: str) -> None:
    connection.execute(
        _reports.insert().values(
            id=uuid.uuid4(),
            subject_id=subject,
            source="report",
            status=status,
            received_at=AT,
            updated_at=AT,
            reports_received=1,
            suspended_account=True,
        )
    )


async def test_open_report_suspensions_become_age_reviews_and_back(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, "0013")

    def seed(connection: Connection) -> dict[str, uuid.UUID]:
        ids = {
            "reported": _account(connection, "suspended"),
            "decided": _account(connection, "suspended"),  # its report was closed: an erasure runs
            "active": _account(connection, "active"),
        }
        _report(connection, ids["reported"], "open")
        _report(connection, ids["decided"], "confirmed")
        return ids

    ids = await run_sync(url, seed)

    def statuses(connection: Connection) -> dict[str, str]:
        rows = dict(connection.execute(sa.select(_accounts.c.id, _accounts.c.status)).all())
        return {name: rows[account_id] for name, account_id in ids.items()}

    await upgrade(url, "0014")
    assert await run_sync(url, statuses) == {"reported": "age_review", "decided": "suspended", "active": "active"}
    await downgrade(url, "0013")
    assert await run_sync(url, statuses) == {"reported": "suspended", "decided": "suspended", "active": "active"}
