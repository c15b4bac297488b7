"""The repository ports over one ``AsyncSession`` (SQLite or PostgreSQL), rows mapped to records explicitly.

Statements are written out rather than going through the ORM identity map or advanced-alchemy's generic
repository: every read goes to the database (no stale cached rows after a bulk update), deletes are single
bounded statements, and each write runs in a SAVEPOINT so a ``Conflict`` leaves the unit of work usable
(PostgreSQL otherwise aborts the whole transaction on the first failed statement).

Every adapter of these ports behaves identically on input the databases disagree about: strings holding NUL
(PostgreSQL rejects them, SQLite stores them) and naive datetimes are refused with ``ValueError`` before any
SQL runs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Delete, Insert, Update

from dreamina.adapters.record_rules import check_text, check_texts, check_time
from dreamina.adapters.sql.models import (
    AccountRow,
    AuditEventRow,
    AuthSessionRow,
    DisclosureRow,
    PolicyAcceptanceRow,
    PolicyVersionRow,
    SubjectKeyRow,
)
from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.domain.privacy.policy import PolicyVersion
from dreamina.ports.audit import AuditEvent
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.identity import Account, AccountStatus, AuthSession
from dreamina.ports.keys import SubjectKey
from dreamina.ports.policy import PolicyAcceptance

_FOREIGN_KEY_VIOLATION = "23503"  # PostgreSQL SQLSTATE
# No ORM instances are ever kept in the session, so bulk statements have no identity map to synchronise.
_NO_SYNC = {"synchronize_session": False}


def _is_foreign_key_violation(error: IntegrityError) -> bool:
    origin = error.orig
    if getattr(origin, "sqlstate", None) == _FOREIGN_KEY_VIOLATION:
        return True
    return "FOREIGN KEY constraint failed" in str(origin)


class _SqlRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _write(self, statement: Insert | Update | Delete, *, conflict: str) -> int:
        """Run one write in a SAVEPOINT: a unique violation becomes ``Conflict``, the transaction lives on."""
        try:
            async with self._session.begin_nested():
                result = await self._session.execute(statement, execution_options=_NO_SYNC)
        except IntegrityError as error:
            if _is_foreign_key_violation(error):
                raise NotFound("the record refers to something that does not exist") from None
            raise Conflict(conflict) from None
        return _rowcount(result)

    async def _execute_count(self, statement: Update | Delete) -> int:
        return _rowcount(await self._session.execute(statement, execution_options=_NO_SYNC))


def retention_batch(statement: Select[Any], limit: int) -> Select[Any]:
    """The next batch of a retention sweep: at most ``limit`` rows, locked so that a second sweep running at the
    same time skips them instead of waiting (PostgreSQL; SQLite ignores FOR UPDATE and serialises writers)."""
    if limit < 0:
        raise ValueError("limit must not be negative")  # SQLite reads LIMIT -1 as "no limit"
    return statement.limit(limit).with_for_update(skip_locked=True)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


# --- identity -----------------------------------------------------------------------------------------------


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
        status=AccountStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        content_retention_days=row.content_retention_days,
    )


class SqlAccountRepository(_SqlRepository):
    """:class:`~dreamina.ports.identity.AccountRepository` over the ``accounts`` table."""

    _table = AccountRow.__table__

    async def add(self, account: Account) -> None:
        _check_account(account)
        statement = insert(AccountRow).values(id=account.id, **_account_values(account))
        await self._write(statement, conflict="an account with this id or email already exists")

    async def get(self, account_id: UUID) -> Account | None:
        row = (await self._session.execute(select(self._table).where(AccountRow.id == account_id))).first()
        return None if row is None else _account(row)

    async def get_by_email_index(self, email_index: str) -> Account | None:
        check_text("email_index", email_index)
        statement = select(self._table).where(AccountRow.email_index == email_index)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _account(row)

    async def update(self, account: Account) -> None:
        _check_account(account)
        statement = update(AccountRow).where(AccountRow.id == account.id).values(**_account_values(account))
        if await self._write(statement, conflict="another account already has this email") == 0:
            raise NotFound("no such account")

    async def delete(self, account_id: UUID) -> bool:
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
    )


class SqlSessionRepository(_SqlRepository):
    """:class:`~dreamina.ports.identity.SessionRepository` over ``auth_sessions``."""

    _table = AuthSessionRow.__table__

    async def add(self, session: AuthSession) -> None:
        check_text("token_hash", session.token_hash)
        check_time("created_at", session.created_at)
        check_time("expires_at", session.expires_at)
        statement = insert(AuthSessionRow).values(
            id=session.id,
            account_id=session.account_id,
            token_hash=session.token_hash,
            created_at=session.created_at,
            expires_at=session.expires_at,
        )
        await self._write(statement, conflict="a session with this id or token already exists")

    async def get_by_token_hash(self, token_hash: str) -> AuthSession | None:
        check_text("token_hash", token_hash)
        statement = select(self._table).where(AuthSessionRow.token_hash == token_hash)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _session_record(row)

    async def delete(self, session_id: UUID) -> bool:
        return await self._execute_count(delete(AuthSessionRow).where(AuthSessionRow.id == session_id)) > 0

    async def delete_for_account(self, account_id: UUID) -> int:
        return await self._execute_count(delete(AuthSessionRow).where(AuthSessionRow.account_id == account_id))

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


# --- keys ---------------------------------------------------------------------------------------------------


def _subject_key(row: Any) -> SubjectKey:
    return SubjectKey(
        subject_id=row.subject_id,
        wrapped_key=None if row.wrapped_key is None else bytes(row.wrapped_key),
        created_at=row.created_at,
        destroyed_at=row.destroyed_at,
    )


class SqlSubjectKeyRepository(_SqlRepository):
    """:class:`~dreamina.ports.keys.SubjectKeyRepository` over ``subject_keys``."""

    _table = SubjectKeyRow.__table__

    async def add(self, key: SubjectKey) -> None:
        check_time("created_at", key.created_at)
        check_time("destroyed_at", key.destroyed_at)
        statement = insert(SubjectKeyRow).values(
            subject_id=key.subject_id,
            wrapped_key=key.wrapped_key,
            created_at=key.created_at,
            destroyed_at=key.destroyed_at,
        )
        await self._write(statement, conflict="the subject already has a data key")

    async def get(self, subject_id: UUID) -> SubjectKey | None:
        statement = select(self._table).where(SubjectKeyRow.subject_id == subject_id)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _subject_key(row)

    async def destroy(self, subject_id: UUID, at: datetime) -> bool:
        check_time("at", at)
        statement = (
            update(SubjectKeyRow)
            .where(SubjectKeyRow.subject_id == subject_id, SubjectKeyRow.wrapped_key.is_not(None))
            .values(wrapped_key=None, destroyed_at=at)
        )
        return await self._execute_count(statement) > 0

    async def delete(self, subject_id: UUID) -> bool:
        return await self._execute_count(delete(SubjectKeyRow).where(SubjectKeyRow.subject_id == subject_id)) > 0


# --- policy -------------------------------------------------------------------------------------------------


def _policy_version(row: Any) -> PolicyVersion:
    return PolicyVersion(
        version=row.version,
        text=row.text,
        content_sha256=row.content_sha256,
        last_updated=row.last_updated,
        effective_at=row.effective_at,
        published_at=row.published_at,
    )


class SqlPolicyVersionRepository(_SqlRepository):
    """:class:`~dreamina.ports.policy.PolicyVersionRepository` over ``policy_versions``."""

    _table = PolicyVersionRow.__table__

    async def add(self, policy: PolicyVersion) -> None:
        check_text("text", policy.text)
        check_text("content_sha256", policy.content_sha256)
        check_time("effective_at", policy.effective_at)
        check_time("published_at", policy.published_at)
        statement = insert(PolicyVersionRow).values(
            id=uuid.uuid4(),
            version=policy.version,
            content_sha256=policy.content_sha256,
            text=policy.text,
            last_updated=policy.last_updated,
            effective_at=policy.effective_at,
            published_at=policy.published_at,
        )
        await self._write(statement, conflict="this policy version already exists")

    async def get(self, version: int) -> PolicyVersion | None:
        statement = select(self._table).where(PolicyVersionRow.version == version)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _policy_version(row)

    async def list(self) -> list[PolicyVersion]:
        rows = await self._session.execute(select(self._table).order_by(PolicyVersionRow.version))
        return [_policy_version(row) for row in rows]


def _acceptance(row: Any) -> PolicyAcceptance:
    return PolicyAcceptance(
        id=row.id,
        subject_id=row.subject_id,
        policy_version=row.policy_version,
        content_sha256=row.content_sha256,
        method=row.method,
        accepted_at=row.accepted_at,
    )


class SqlPolicyAcceptanceRepository(_SqlRepository):
    """:class:`~dreamina.ports.policy.PolicyAcceptanceRepository` over ``policy_acceptances``."""

    _table = PolicyAcceptanceRow.__table__

    async def add(self, acceptance: PolicyAcceptance) -> None:
        check_text("content_sha256", acceptance.content_sha256)
        check_text("method", acceptance.method)
        check_time("accepted_at", acceptance.accepted_at)
        statement = insert(PolicyAcceptanceRow).values(
            id=acceptance.id,
            subject_id=acceptance.subject_id,
            policy_version=acceptance.policy_version,
            content_sha256=acceptance.content_sha256,
            method=acceptance.method,
            accepted_at=acceptance.accepted_at,
        )
        await self._write(statement, conflict="this acceptance is already recorded")

    async def list_for_subject(self, subject_id: UUID) -> list[PolicyAcceptance]:
        statement = (
            select(self._table)
            .where(PolicyAcceptanceRow.subject_id == subject_id)
            .order_by(PolicyAcceptanceRow.accepted_at, PolicyAcceptanceRow.id)
        )
        return [_acceptance(row) for row in await self._session.execute(statement)]

    async def delete_for_subject(self, subject_id: UUID) -> int:
        statement = delete(PolicyAcceptanceRow).where(PolicyAcceptanceRow.subject_id == subject_id)
        return await self._execute_count(statement)


# --- audit and disclosures ----------------------------------------------------------------------------------


def _audit_event(row: Any) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        subject_id=row.subject_id,
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        action=row.action,
        fields=tuple(row.fields),
        reason=row.reason,
        occurred_at=row.occurred_at,
    )


class SqlAuditLog(_SqlRepository):
    """:class:`~dreamina.ports.audit.AuditLog` over ``audit_events`` (append-only: no update or delete)."""

    _table = AuditEventRow.__table__

    async def append(self, event: AuditEvent) -> None:
        check_text("actor_kind", event.actor_kind)
        check_text("action", event.action)
        check_texts("fields", event.fields)
        check_text("reason", event.reason)
        check_time("occurred_at", event.occurred_at)
        statement = insert(AuditEventRow).values(
            id=event.id,
            subject_id=event.subject_id,
            actor_kind=event.actor_kind,
            actor_id=event.actor_id,
            action=event.action,
            fields=list(event.fields),
            reason=event.reason,
            occurred_at=event.occurred_at,
        )
        await self._write(statement, conflict="this audit event is already recorded")

    async def list_for_subject(self, subject_id: UUID) -> list[AuditEvent]:
        statement = (
            select(self._table)
            .where(AuditEventRow.subject_id == subject_id)
            .order_by(AuditEventRow.occurred_at, AuditEventRow.id)
        )
        return [_audit_event(row) for row in await self._session.execute(statement)]

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        touched = select(func.count()).where(
            or_(AuditEventRow.subject_id == subject_id, AuditEventRow.actor_id == subject_id)
        )
        changed = int((await self._session.execute(touched)).scalar_one())
        await self._execute_count(
            update(AuditEventRow).where(AuditEventRow.actor_id == subject_id).values(actor_id=pseudonym, reason=None)
        )
        await self._execute_count(
            update(AuditEventRow)
            .where(AuditEventRow.subject_id == subject_id)
            .values(subject_id=pseudonym, reason=None)
        )
        return changed

    async def count_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = select(func.count()).select_from(AuditEventRow).where(AuditEventRow.occurred_at < cutoff)
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        oldest = select(AuditEventRow.id).where(AuditEventRow.occurred_at < cutoff).order_by(AuditEventRow.occurred_at)
        batch = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(delete(AuditEventRow).where(AuditEventRow.id.in_(batch)))


def _disclosure(row: Any) -> Disclosure:
    return Disclosure(
        id=row.id,
        subject_id=row.subject_id,
        processor=row.processor,
        categories=tuple(row.categories),
        purpose=row.purpose,
        reference=row.reference,
        occurred_at=row.occurred_at,
    )


class SqlDisclosureLedger(_SqlRepository):
    """:class:`~dreamina.ports.disclosures.DisclosureLedger` over ``disclosures``."""

    _table = DisclosureRow.__table__

    async def record(self, disclosure: Disclosure) -> None:
        check_text("processor", disclosure.processor)
        check_texts("categories", disclosure.categories)
        check_text("purpose", disclosure.purpose)
        check_text("reference", disclosure.reference)
        check_time("occurred_at", disclosure.occurred_at)
        statement = insert(DisclosureRow).values(
            id=disclosure.id,
            subject_id=disclosure.subject_id,
            processor=disclosure.processor,
            categories=list(disclosure.categories),
            purpose=disclosure.purpose,
            reference=disclosure.reference,
            occurred_at=disclosure.occurred_at,
        )
        await self._write(statement, conflict="this disclosure is already recorded")

    async def list_for_subject(self, subject_id: UUID) -> list[Disclosure]:
        statement = (
            select(self._table)
            .where(DisclosureRow.subject_id == subject_id)
            .order_by(DisclosureRow.occurred_at, DisclosureRow.id)
        )
        return [_disclosure(row) for row in await self._session.execute(statement)]

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        statement = (
            update(DisclosureRow)
            .where(DisclosureRow.subject_id == subject_id)
            .values(subject_id=pseudonym, reference=None)
        )
        return await self._execute_count(statement)
