"""billing: each wallet keeps its subject's running balance, which the database adds every new ledger entry to

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 01:00:00

Written by hand; SQLite and PostgreSQL spell the trigger each their own way. The balance was the sum of the subject's
whole ledger, read on every charge and every balance shown: two entries a generation, so a subject's 50,000th
generation summed 100,000 rows (``bench/ledger.py``). The wallet row, which every ledger write locks first, now keeps
the sum, and a trigger adds each inserted entry's amount to it in the entry's own statement: every writer keeps it
right, and the service sends no statement more for it. The ledger is append-only (an entry is never changed or
deleted; pseudonymisation moves a subject's entries to a tombstone, which has no wallet, and deletes the subject's
wallet), so inserts are all the trigger follows. NULL means "not counted yet": the wallets this migration finds start
so, and the first lock of each counts the ledger once (the migration itself reads no ledger, however long); an entry
leaves NULL as it is. The downgrade drops the trigger and the column: the ledger still holds every entry.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "credit_ledger_entries_balance"
_ADD = "UPDATE billing_wallets SET balance = balance + NEW.amount WHERE subject_id = NEW.subject_id;"


def upgrade() -> None:
    with op.batch_alter_table("billing_wallets") as table:
        table.add_column(sa.Column("balance", sa.BigInteger(), nullable=True))
    if _postgres():
        op.execute(
            f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {_ADD} RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON credit_ledger_entries FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()"
        )
    else:
        op.execute(f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON credit_ledger_entries BEGIN {_ADD} END")


def downgrade() -> None:
    op.execute(f"DROP TRIGGER {TRIGGER}" + (" ON credit_ledger_entries" if _postgres() else ""))
    if _postgres():
        op.execute(f"DROP FUNCTION {TRIGGER}()")
    with op.batch_alter_table("billing_wallets") as table:
        table.drop_column("balance")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"
