"""In-memory fake of the payment sandbox's session store (and the store a sandbox without a database keeps)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, Unique, retention_batch, utc
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.ports.payments import SandboxSession

_TEXT = ("id", "reference", "pack_id", "description", "currency", "success_url", "cancel_url", "status")


class InMemorySandboxSessionRepository:
    def __init__(self, table: Table[str, SandboxSession]) -> None:
        self._table = table

    @staticmethod
    def _stored(session: SandboxSession) -> SandboxSession:
        for name in _TEXT:
            check_text(name, getattr(session, name))
        check_time("created_at", session.created_at)
        check_time("expires_at", session.expires_at)
        return dataclasses.replace(session, created_at=utc(session.created_at), expires_at=utc(session.expires_at))

    def _find(self, wanted: object, field: str) -> SandboxSession | None:
        found = next((s for _, s in self._table.rows() if getattr(s, field) == wanted), None)
        return None if found is None else dataclasses.replace(found)  # a copy: the session is mutable

    async def add(self, session: SandboxSession) -> None:
        self._table.insert(session.id, self._stored(session))

    async def get(self, session_id: str) -> SandboxSession | None:
        return self._find(session_id, "id")

    async def by_reference(self, reference: str) -> SandboxSession | None:
        return self._find(reference, "reference")

    async def by_payment_intent(self, payment_intent_id: str) -> SandboxSession | None:
        return self._find(payment_intent_id, "payment_intent_id")

    async def update(self, session: SandboxSession, *, from_status: str, from_payment_status: str) -> bool:
        stored = self._table.get(session.id)
        if stored is None or (stored.status, stored.payment_status) != (from_status, from_payment_status):
            return False
        self._table.replace(session.id, self._stored(session))
        return True

    async def delete_created_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        due = retention_batch(self._table.rows(), lambda r: r[1].created_at < cutoff, lambda r: r[1].created_at, limit)
        for key, _ in due:
            self._table.delete(key)
        return len(due)

    async def count_created_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, s in self._table.rows() if s.created_at < cutoff)


_DUPLICATE = "this sandbox checkout session already exists"

STORES = MemoryStores(
    tables=(
        TableSpec(
            "sandbox_checkout_sessions",
            (
                Unique(lambda s: s.reference, _DUPLICATE),
                # an unpaid session has no intent yet: its own id stands in, so None never collides
                Unique(lambda s: s.payment_intent_id or ("no intent", s.id), "this payment intent is already recorded"),
            ),
            _DUPLICATE,
        ),
    ),
    repositories={"sandbox_sessions": lambda s: InMemorySandboxSessionRepository(s.table("sandbox_checkout_sessions"))},
)
