"""In-memory fake of the one-time token store, staged and committed like the other memory tables."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, Unique, retention_batch, utc, utc_or_none
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.identity import Account
from dreamina.ports.tokens import AccountToken, TokenPurpose


class InMemoryAccountTokenRepository:
    def __init__(self, table: Table[UUID, AccountToken], accounts: Table[UUID, Account]) -> None:
        self._table = table
        self._accounts = accounts

    async def add(self, token: AccountToken) -> None:
        check_text("token_hash", token.token_hash)
        for name in ("created_at", "expires_at", "used_at"):
            check_time(name, getattr(token, name))
        if self._accounts.get(token.account_id) is None:
            raise NotFound("the record refers to something that does not exist")
        stored = dataclasses.replace(
            token,
            purpose=TokenPurpose(token.purpose),
            payload_ciphertext=None if token.payload_ciphertext is None else bytes(token.payload_ciphertext),
            created_at=utc(token.created_at),
            expires_at=utc(token.expires_at),
            used_at=utc_or_none(token.used_at),
        )
        self._table.insert(stored.id, stored)

    async def find(self, purpose: TokenPurpose, token_hash: str) -> AccountToken | None:
        check_text("token_hash", token_hash)
        return next((t for _, t in self._table.rows() if t.purpose == purpose and t.token_hash == token_hash), None)

    async def use(self, token_id: UUID, at: datetime) -> bool:
        check_time("at", at)
        found = self._table.get(token_id)
        if found is None or found.used_at is not None or found.expires_at <= at:
            return False
        self._table.replace(token_id, dataclasses.replace(found, used_at=utc(at)))
        return True

    async def list_for_account(self, account_id: UUID) -> list[AccountToken]:
        found = [t for _, t in self._table.rows() if t.account_id == account_id]
        return sorted(found, key=lambda t: (t.created_at, t.id))

    async def delete_for_account(self, account_id: UUID, purpose: TokenPurpose | None = None) -> int:
        doomed = [k for k, t in self._table.rows() if t.account_id == account_id and purpose in (None, t.purpose)]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def count_expired(self, now: datetime) -> int:
        check_time("now", now)
        return sum(1 for _, t in self._table.rows() if t.expires_at < now)

    async def delete_expired(self, now: datetime, limit: int) -> int:
        check_time("now", now)
        rows = (t for _, t in self._table.rows())
        batch = retention_batch(rows, lambda t: t.expires_at < now, lambda t: t.expires_at, limit)
        for token in batch:
            self._table.delete(token.id)
        return len(batch)


STORES = MemoryStores(
    tables=(
        TableSpec(
            "account_tokens",
            (Unique(lambda t: (t.purpose, t.token_hash), "this token already exists"),),
            "this token already exists",
        ),
    ),
    repositories={
        "account_tokens": lambda s: InMemoryAccountTokenRepository(s.table("account_tokens"), s.table("accounts"))
    },
)
