"""In-memory fakes of the identity module's repositories: accounts and sessions."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID

from dreamina.adapters.memory.tables import (
    MemoryStores,
    Staging,
    Table,
    TableSpec,
    Unique,
    utc,
    utc_or_none,
)
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.identity import SIGN_IN_STATUSES, Account, AccountStatus, AuthSession
from dreamina.ports.staff import StaffMember, StaffRole


class InMemoryAccountRepository:
    def __init__(self, staging: Staging, table: Table[UUID, Account], *dependents: Table[UUID, Any]) -> None:
        self._staging = staging
        self._table = table
        self._dependents = dependents  # sessions and tokens go with their account, as the SQL foreign keys cascade

    async def add(self, account: Account) -> None:
        stored = _stored_account(account)
        self._table.insert(stored.id, stored)

    async def get(self, account_id: UUID) -> Account | None:
        found = self._table.get(account_id)
        return None if found is None else dataclasses.replace(found)

    async def get_by_email_index(self, email_index: str) -> Account | None:
        check_text("email_index", email_index)
        found = next((a for _, a in self._table.rows() if a.email_index == email_index), None)
        return None if found is None else dataclasses.replace(found)

    async def lock_by_email_index(self, email_index: str) -> Account | None:
        check_text("email_index", email_index)
        await self._staging.hold(("accounts", email_index))  # then read: what the last holder committed
        return await self.get_by_email_index(email_index)

    async def update(self, account: Account) -> None:
        stored = _stored_account(account)
        if self._table.get(stored.id) is None:
            raise NotFound("no such account")
        self._table.replace(stored.id, stored)

    async def delete(self, account_id: UUID) -> bool:
        for dependent in self._dependents:
            for key, row in list(dependent.rows()):
                if row.account_id == account_id:
                    dependent.delete(key)
        return self._table.delete(account_id)


def _stored_account(account: Account) -> Account:
    check_text("email_index", account.email_index)
    check_text("country", account.country)
    check_text("region", account.region)
    check_text("password_hash", account.password_hash)
    check_text("status", account.status)
    check_time("created_at", account.created_at)
    check_time("updated_at", account.updated_at)
    check_time("email_verified_at", account.email_verified_at)
    return dataclasses.replace(
        account,
        email_ciphertext=bytes(account.email_ciphertext),
        display_name_ciphertext=None
        if account.display_name_ciphertext is None
        else bytes(account.display_name_ciphertext),
        birth_date_ciphertext=bytes(account.birth_date_ciphertext),
        status=AccountStatus(account.status),
        created_at=utc(account.created_at),
        updated_at=utc(account.updated_at),
        email_verified_at=utc_or_none(account.email_verified_at),
    )


class InMemorySessionRepository:
    def __init__(self, table: Table[UUID, AuthSession], accounts: Table[UUID, Account]) -> None:
        self._table = table
        self._accounts = accounts

    async def add(self, session: AuthSession) -> None:
        check_text("token_hash", session.token_hash)
        check_time("created_at", session.created_at)
        check_time("expires_at", session.expires_at)
        check_time("last_used_at", session.last_used_at)
        check_text("device_class", session.device_class)
        if self._accounts.get(session.account_id) is None:
            raise NotFound("the record refers to something that does not exist")
        stored = dataclasses.replace(
            session,
            created_at=utc(session.created_at),
            expires_at=utc(session.expires_at),
            last_used_at=utc_or_none(session.last_used_at),
        )
        self._table.insert(stored.id, stored)

    async def get_by_token_hash(self, token_hash: str) -> AuthSession | None:
        check_text("token_hash", token_hash)
        return next((s for _, s in self._table.rows() if s.token_hash == token_hash), None)

    async def get_live_by_token_hash(self, token_hash: str, now: datetime) -> AuthSession | None:
        check_time("now", now)
        session = await self.get_by_token_hash(token_hash)
        if session is None or session.expires_at <= now:
            return None
        account = self._accounts.get(session.account_id)
        return session if account is not None and account.status in SIGN_IN_STATUSES else None

    async def delete(self, session_id: UUID) -> bool:
        return self._table.delete(session_id)

    async def delete_for_account(self, account_id: UUID, *, keep: UUID | None = None) -> int:
        doomed = [key for key, s in self._table.rows() if s.account_id == account_id and key != keep]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def list_for_account(self, account_id: UUID) -> list[AuthSession]:
        found = [s for _, s in self._table.rows() if s.account_id == account_id]
        return sorted(found, key=lambda s: (-s.created_at.timestamp(), s.id))

    async def touch(self, session_id: UUID, at: datetime) -> None:
        check_time("at", at)
        found = self._table.get(session_id)
        if found is not None:
            self._table.replace(session_id, dataclasses.replace(found, last_used_at=utc(at)))

    async def delete_expired(self, now: datetime, limit: int) -> int:
        check_time("now", now)
        if limit < 0:
            raise ValueError("limit must not be negative")
        expired = sorted((s for _, s in self._table.rows() if s.expires_at < now), key=lambda s: s.expires_at)
        for session in expired[:limit]:
            self._table.delete(session.id)
        return len(expired[:limit])

    async def count_expired(self, now: datetime) -> int:
        check_time("now", now)
        return sum(1 for _, s in self._table.rows() if s.expires_at < now)


class InMemoryStaffRepository:
    def __init__(self, table: Table[UUID, StaffMember]) -> None:
        self._table = table

    async def put(self, member: StaffMember) -> None:
        check_time("granted_at", member.granted_at)
        stored = dataclasses.replace(member, role=StaffRole(member.role), granted_at=utc(member.granted_at))
        self._table.replace(stored.account_id, stored)

    async def get(self, account_id: UUID) -> StaffMember | None:
        return self._table.get(account_id)

    async def remove(self, account_id: UUID) -> bool:
        return self._table.delete(account_id)

    async def list(self) -> list[StaffMember]:
        return sorted((m for _, m in self._table.rows()), key=lambda m: (m.granted_at, m.account_id.bytes))


STORES = MemoryStores(
    tables=(
        TableSpec(
            "accounts",
            (Unique(lambda a: a.email_index, "an account with this id or email already exists"),),
            "an account with this id or email already exists",
        ),
        TableSpec(
            "auth_sessions",
            (Unique(lambda s: s.token_hash, "a session with this id or token already exists"),),
            "a session with this id or token already exists",
        ),
        TableSpec("staff_members"),
    ),
    repositories={
        "accounts": lambda s: InMemoryAccountRepository(
            s, s.table("accounts"), s.table("auth_sessions"), s.table("account_tokens")
        ),
        "sessions": lambda s: InMemorySessionRepository(s.table("auth_sessions"), s.table("accounts")),
        "staff": lambda s: InMemoryStaffRepository(s.table("staff_members")),
    },
)
