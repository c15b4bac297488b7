"""The identity module's repositories over SQL: accounts and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import any_, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import array

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_identity import AccountRow, AuthSessionRow, StaffMemberRow
from dreamina.adapters.sql.models_kernel import SubjectKeyRow
from dreamina.adapters.sql.principal_cache import CHANGES_KEY, PrincipalCache, record_change
from dreamina.adapters.sql.principal_cache import INFO_KEY as CACHE_KEY
from dreamina.adapters.sql.repositories_kernel import KEY_ALONG, keep_key_read_along
from dreamina.adapters.sql.repository_kit import (
    READ_ONLY,
    DriverRead,
    SqlRepositories,
    SqlRepository,
    by_value,
    insert_into,
)
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.identity import SIGN_IN_STATUSES, Account, AccountStatus, AuthSession
from dreamina.ports.staff import StaffMember, StaffRole

_ACCOUNT_STATUSES = by_value(AccountStatus)  # every bearer request's account read maps one


def _check_account(account: Account) -> None:
    check_text("email_index", account.email_index)
    check_text("country", account.country)
    check_text("region", account.region)
    check_text("password_hash", account.password_hash)
    check_text("status", account.status)
    check_time("created_at", account.created_at)
    check_time("updated_at", account.updated_at)


def _account_values(account: Account) -> dict[str, Any]:
    return {
        "email_index": account.email_index,
        "email_ciphertext": account.email_ciphertext,
        "display_name_ciphertext": account.display_name_ciphertext,
        "birth_date_ciphertext": account.birth_date_ciphertext,
        "country": account.country,
        "region": account.region,
        "password_hash": account.password_hash,
        "status": AccountStatus(account.status).value,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
        "content_retention_days": account.content_retention_days,
        "email_verified_at": account.email_verified_at,
    }


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        email_index=row.email_index,
        email_ciphertext=bytes(row.email_ciphertext),
        display_name_ciphertext=None if row.display_name_ciphertext is None else bytes(row.display_name_ciphertext),
        birth_date_ciphertext=bytes(row.birth_date_ciphertext),
        country=row.country,
        region=row.region,
        password_hash=row.password_hash,
        status=_ACCOUNT_STATUSES[row.status],
        created_at=row.created_at,
        updated_at=row.updated_at,
        content_retention_days=row.content_retention_days,
        email_verified_at=row.email_verified_at,
    )


class SqlAccountRepository(SqlRepository):
    """:class:`~dreamina.ports.identity.AccountRepository` over the ``accounts`` table."""

    _table = AccountRow.__table__
    # Built once: an account read is on almost every request, and building the expression cost more than running it.
    _by_id = DriverRead(select(_table).where(_table.c.id == bindparam("account_id")))
    # In a read-only unit of work the account comes with its subject's data key, which the reads that follow an
    # account's (its profile's sealed fields) open next: one round trip, not two (GET /v1/me).
    _keys = SubjectKeyRow.__table__
    _by_id_with_key = DriverRead(
        select(_table, *(column.label(name) for name, column in KEY_ALONG.items()))
        .select_from(_table.outerjoin(_keys, _keys.c.subject_id == _table.c.id))
        .where(_table.c.id == bindparam("account_id"))
    )
    _by_email_index = select(_table).where(_table.c.email_index == bindparam("email_index"))

    async def add(self, account: Account) -> None:
        _check_account(account)
        statement = insert_into(AccountRow).values(id=account.id, **_account_values(account))
        await self._write(statement, conflict="an account with this id or email already exists")

    async def get(self, account_id: UUID) -> Account | None:
        if not self._session.info.get(READ_ONLY):
            row = await self._by_id.first(self._session, {"account_id": account_id})
            return None if row is None else _account(row)
        row = await self._by_id_with_key.first(self._session, {"account_id": account_id})
        if row is None:
            return None
        keep_key_read_along(self._session, account_id, row)
        return _account(row)

    async def get_by_email_index(self, email_index: str) -> Account | None:
        check_text("email_index", email_index)
        row = (await self._session.execute(self._by_email_index, {"email_index": email_index})).first()
        return None if row is None else _account(row)

    async def lock_by_email_index(self, email_index: str) -> Account | None:
        check_text("email_index", email_index)
        # FOR UPDATE on PostgreSQL; SQLite has no row locks and needs none: its units of work take turns.
        statement = select(self._table).where(AccountRow.email_index == email_index).with_for_update()
        row = (await self._session.execute(statement)).first()
        return None if row is None else _account(row)

    async def update(self, account: Account) -> None:
        _check_account(account)
        await record_change(self._session, ("account", account.id))  # its status may end its sessions
        statement = update(AccountRow).where(AccountRow.id == account.id).values(**_account_values(account))
        if await self._write(statement, conflict="another account already has this email") == 0:
            raise NotFound("no such account")

    async def delete(self, account_id: UUID) -> bool:
        await record_change(self._session, ("account", account_id))
        # Sessions first: SQLite enforces the foreign key only when told to, PostgreSQL always.
        await self._execute_count(delete(AuthSessionRow).where(AuthSessionRow.account_id == account_id))
        return await self._execute_count(delete(AccountRow).where(AccountRow.id == account_id)) > 0


def _session_record(row: Any) -> AuthSession:
    return AuthSession(
        id=row.id,
        account_id=row.account_id,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        device_class=row.device_class,
    )


class SqlSessionRepository(SqlRepository):
    """:class:`~dreamina.ports.identity.SessionRepository` over ``auth_sessions``."""

    _table = AuthSessionRow.__table__
    # Built once and run on the driver: the bearer-token check's read whenever the process's cache has no entry (each
    # subject's every few seconds). Built per call through the ORM it cost a millisecond or two of CPU, and a burst of
    # subjects whose entries ended together stalled every other request behind it.
    _signs_in = AccountRow.status.in_(sorted(s.value for s in SIGN_IN_STATUSES))
    _live = (
        select(_table)
        .join(AccountRow, AccountRow.id == AuthSessionRow.account_id)
        .where(AuthSessionRow.token_hash == bindparam("token_hash"), AuthSessionRow.expires_at > bindparam("now"))
    )
    _live_by_token_hash = DriverRead(
        _live.where(_signs_in),
        postgres=_live.where(AccountRow.status == any_(array(sorted(s.value for s in SIGN_IN_STATUSES)))),
    )

    async def add(self, session: AuthSession) -> None:
        check_text("token_hash", session.token_hash)
        check_time("created_at", session.created_at)
        check_time("expires_at", session.expires_at)
        check_time("last_used_at", session.last_used_at)
        check_text("device_class", session.device_class)
        statement = insert_into(AuthSessionRow).values(
            id=session.id,
            account_id=session.account_id,
            token_hash=session.token_hash,
            created_at=session.created_at,
            expires_at=session.expires_at,
            last_used_at=session.last_used_at,
            device_class=session.device_class,
        )
        await self._write(statement, conflict="a session with this id or token already exists")

    async def get_by_token_hash(self, token_hash: str) -> AuthSession | None:
        check_text("token_hash", token_hash)
        statement = select(self._table).where(AuthSessionRow.token_hash == token_hash)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _session_record(row)

    async def get_live_by_token_hash(self, token_hash: str, now: datetime) -> AuthSession | None:
        check_text("token_hash", token_hash)
        check_time("now", now)
        cache: PrincipalCache | None = self._session.info.get(CACHE_KEY)
        cached = None if cache is None else cache.get(token_hash, now)
        if cached is not None:
            return cached
        row = await self._live_by_token_hash.first(self._session, {"token_hash": token_hash, "now": now})
        if row is None:
            return None
        found = _session_record(row)
        if cache is not None and not self._session.info.get(CHANGES_KEY):  # nothing pending in this unit of work
            cache.put(found)
        return found

    async def delete(self, session_id: UUID) -> bool:
        await record_change(self._session, ("session", session_id))
        return await self._execute_count(delete(AuthSessionRow).where(AuthSessionRow.id == session_id)) > 0

    async def delete_for_account(self, account_id: UUID, *, keep: UUID | None = None) -> int:
        await record_change(self._session, ("account", account_id))
        statement = delete(AuthSessionRow).where(AuthSessionRow.account_id == account_id)
        if keep is not None:
            statement = statement.where(AuthSessionRow.id != keep)
        return await self._execute_count(statement)

    async def list_for_account(self, account_id: UUID) -> list[AuthSession]:
        statement = (
            select(self._table)
            .where(AuthSessionRow.account_id == account_id)
            .order_by(AuthSessionRow.created_at.desc(), AuthSessionRow.id)
        )
        return [_session_record(row) for row in await self._session.execute(statement)]

    async def touch(self, session_id: UUID, at: datetime) -> None:
        check_time("at", at)
        await self._execute_count(update(AuthSessionRow).where(AuthSessionRow.id == session_id).values(last_used_at=at))
        cache: PrincipalCache | None = self._session.info.get(CACHE_KEY)
        if cache is not None:
            cache.touched(session_id, at)

    async def delete_expired(self, now: datetime, limit: int) -> int:
        check_time("now", now)
        if limit < 0:
            raise ValueError("limit must not be negative")  # SQLite reads LIMIT -1 as "no limit"
        # One statement, bounded by the limit and driven by the expires_at index; concurrent sweepers skip
        # each other's rows on PostgreSQL (SQLite ignores FOR UPDATE and serialises writers anyway).
        batch = (
            select(AuthSessionRow.id)
            .where(AuthSessionRow.expires_at < now)
            .order_by(AuthSessionRow.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        return await self._execute_count(delete(AuthSessionRow).where(AuthSessionRow.id.in_(batch)))

    async def count_expired(self, now: datetime) -> int:
        check_time("now", now)
        statement = select(func.count()).select_from(AuthSessionRow).where(AuthSessionRow.expires_at < now)
        return int((await self._session.execute(statement)).scalar_one())


class SqlStaffRepository(SqlRepository):
    """:class:`~dreamina.ports.staff.StaffRepository` over ``staff_members``."""

    _table = StaffMemberRow.__table__

    async def put(self, member: StaffMember) -> None:
        check_time("granted_at", member.granted_at)
        role = StaffRole(member.role).value
        changed = await self._execute_count(
            update(StaffMemberRow)
            .where(StaffMemberRow.account_id == member.account_id)
            .values(role=role, granted_at=member.granted_at)
        )
        if changed == 0:
            statement = insert_into(StaffMemberRow).values(
                account_id=member.account_id, role=role, granted_at=member.granted_at
            )
            await self._write(statement, conflict="the staff role was changed concurrently; try again")

    async def get(self, account_id: UUID) -> StaffMember | None:
        statement = select(self._table).where(StaffMemberRow.account_id == account_id)
        row = (await self._session.execute(statement)).first()
        return None if row is None else StaffMember(row.account_id, StaffRole(row.role), row.granted_at)

    async def remove(self, account_id: UUID) -> bool:
        return await self._execute_count(delete(StaffMemberRow).where(StaffMemberRow.account_id == account_id)) > 0

    async def list(self) -> list[StaffMember]:
        statement = select(self._table).order_by(StaffMemberRow.granted_at, StaffMemberRow.account_id)
        return [
            StaffMember(r.account_id, StaffRole(r.role), r.granted_at) for r in await self._session.execute(statement)
        ]


REPOSITORIES: SqlRepositories = {
    "accounts": SqlAccountRepository,
    "sessions": SqlSessionRepository,
    "staff": SqlStaffRepository,
}
"""The identity module's stores, by their name in the unit of work."""
