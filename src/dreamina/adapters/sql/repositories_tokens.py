"""The identity module's one-time tokens over SQL (``account_tokens``): only keyed hashes, single use by
compare-and-set."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_identity import AccountTokenRow
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, insert_into, retention_batch
from dreamina.ports.tokens import AccountToken, TokenPurpose


def _token(row: Any) -> AccountToken:
    return AccountToken(
        id=row.id,
        account_id=row.account_id,
        purpose=TokenPurpose(row.purpose),
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        payload_ciphertext=None if row.payload_ciphertext is None else bytes(row.payload_ciphertext),
        used_at=row.used_at,
    )


class SqlAccountTokenRepository(SqlRepository):
    """:class:`~dreamina.ports.tokens.AccountTokenRepository` over ``account_tokens``."""

    async def add(self, token: AccountToken) -> None:
        check_text("token_hash", token.token_hash)
        for name in ("created_at", "expires_at", "used_at"):
            check_time(name, getattr(token, name))
        await self._write(
            insert_into(AccountTokenRow).values(
                id=token.id,
                account_id=token.account_id,
                purpose=TokenPurpose(token.purpose).value,
                token_hash=token.token_hash,
                payload_ciphertext=token.payload_ciphertext,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
            ),
            conflict="this token already exists",
        )

    async def find(self, purpose: TokenPurpose, token_hash: str) -> AccountToken | None:
        check_text("token_hash", token_hash)
        statement = select(AccountTokenRow).where(
            AccountTokenRow.purpose == TokenPurpose(purpose).value, AccountTokenRow.token_hash == token_hash
        )
        row = (await self._session.execute(statement)).scalar_one_or_none()
        return None if row is None else _token(row)

    async def use(self, token_id: UUID, at: datetime) -> bool:
        check_time("at", at)
        statement = (
            update(AccountTokenRow)
            .where(AccountTokenRow.id == token_id, AccountTokenRow.used_at.is_(None), AccountTokenRow.expires_at > at)
            .values(used_at=at)
        )
        return await self._execute_count(statement) == 1

    async def list_for_account(self, account_id: UUID) -> list[AccountToken]:
        statement = (
            select(AccountTokenRow)
            .where(AccountTokenRow.account_id == account_id)
            .order_by(AccountTokenRow.created_at, AccountTokenRow.id)
        )
        return [_token(row) for row in (await self._session.execute(statement)).scalars()]

    async def delete_for_account(self, account_id: UUID, purpose: TokenPurpose | None = None) -> int:
        statement = delete(AccountTokenRow).where(AccountTokenRow.account_id == account_id)
        if purpose is not None:
            statement = statement.where(AccountTokenRow.purpose == TokenPurpose(purpose).value)
        return await self._execute_count(statement)

    async def count_expired(self, now: datetime) -> int:
        check_time("now", now)
        statement = select(func.count()).select_from(AccountTokenRow).where(AccountTokenRow.expires_at < now)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_expired(self, now: datetime, limit: int) -> int:
        check_time("now", now)
        oldest = select(AccountTokenRow.id).where(AccountTokenRow.expires_at < now).order_by(AccountTokenRow.expires_at)
        batch = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(delete(AccountTokenRow).where(AccountTokenRow.id.in_(batch)))


REPOSITORIES: SqlRepositories = {"account_tokens": SqlAccountTokenRepository}
"""The one-time tokens' store, by its name in the unit of work."""
