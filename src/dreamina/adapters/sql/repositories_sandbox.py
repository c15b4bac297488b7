"""The payment sandbox's sessions over SQL (SQLite and PostgreSQL), same conventions as the other repositories."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_sandbox import SandboxSessionRow
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, insert_into, retention_batch
from dreamina.ports.payments import SandboxSession

_FIELDS = tuple(f.name for f in dataclasses.fields(SandboxSession))
_TEXT = ("id", "reference", "pack_id", "description", "currency", "success_url", "cancel_url", "status")


def _session(row: Any) -> SandboxSession:
    return SandboxSession(**{name: getattr(row, name) for name in _FIELDS})


def _values(session: SandboxSession) -> dict[str, Any]:
    for name in _TEXT:
        check_text(name, getattr(session, name))
    check_time("created_at", session.created_at)
    check_time("expires_at", session.expires_at)
    return {name: getattr(session, name) for name in _FIELDS}


class SqlSandboxSessionRepository(SqlRepository):
    """:class:`~dreamina.ports.payments.SandboxSessionRepository` over ``sandbox_checkout_sessions``."""

    _table = SandboxSessionRow.__table__

    async def add(self, session: SandboxSession) -> None:
        statement = insert_into(SandboxSessionRow).values(**_values(session))
        await self._write(statement, conflict="this sandbox checkout session already exists")

    async def _one(self, *where: Any) -> SandboxSession | None:
        row = (await self._session.execute(select(self._table).where(*where))).first()
        return None if row is None else _session(row)

    async def get(self, session_id: str) -> SandboxSession | None:
        return await self._one(SandboxSessionRow.id == session_id)

    async def by_reference(self, reference: str) -> SandboxSession | None:
        return await self._one(SandboxSessionRow.reference == reference)

    async def by_payment_intent(self, payment_intent_id: str) -> SandboxSession | None:
        return await self._one(SandboxSessionRow.payment_intent_id == payment_intent_id)

    async def update(self, session: SandboxSession, *, from_status: str, from_payment_status: str) -> bool:
        values = _values(session)
        del values["id"]
        statement = (
            update(SandboxSessionRow)
            .where(
                SandboxSessionRow.id == session.id,
                SandboxSessionRow.status == from_status,
                SandboxSessionRow.payment_status == from_payment_status,
            )
            .values(**values)
        )
        return await self._write(statement, conflict="this payment intent is already recorded") == 1

    async def delete_created_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        oldest = (
            select(SandboxSessionRow.id)
            .where(SandboxSessionRow.created_at < cutoff)
            .order_by(SandboxSessionRow.created_at)
        )
        doomed = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(delete(SandboxSessionRow).where(SandboxSessionRow.id.in_(doomed)))

    async def count_created_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = select(func.count()).select_from(SandboxSessionRow).where(SandboxSessionRow.created_at < cutoff)
        return int((await self._session.execute(statement)).scalar_one())


REPOSITORIES: SqlRepositories = {"sandbox_sessions": SqlSandboxSessionRepository}
