"""The one-time token store's contract, on memory, SQLite and PostgreSQL: found by purpose and hash, used at most
once before expiry (compare-and-set), replaced and erased per account, swept at expiry; sessions' new fields."""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.ports.identity import AuthSession
from dreamina.ports.tokens import AccountToken, TokenPurpose
from dreamina.ports.unit_of_work import UnitOfWorkFactory

from .test_repositories_contract import add_account

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _token(account_id: uuid.UUID, purpose: TokenPurpose = TokenPurpose.VERIFY_EMAIL, **changes: object) -> AccountToken:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "account_id": account_id,
        "purpose": purpose,
        "token_hash": uuid.uuid4().hex,
        "created_at": AT,
        "expires_at": AT + timedelta(hours=1),
    }
    fields.update(changes)
    return AccountToken(**fields)  # type: ignore[arg-type]


async def test_a_token_is_found_by_purpose_and_hash_and_used_once(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    token = _token(account.id, payload_ciphertext=b"\x01sealed")
    async with uow_factory() as uow:
        await uow.account_tokens.add(token)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.account_tokens.find(TokenPurpose.VERIFY_EMAIL, token.token_hash) == token
        assert await uow.account_tokens.find(TokenPurpose.RESET_PASSWORD, token.token_hash) is None
        assert await uow.account_tokens.use(token.id, AT + timedelta(minutes=1)) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.account_tokens.use(token.id, AT + timedelta(minutes=2)) is False
        used = await uow.account_tokens.find(TokenPurpose.VERIFY_EMAIL, token.token_hash)
        assert used is not None and used.used_at == AT + timedelta(minutes=1)


async def test_an_expired_token_cannot_be_used_and_is_swept(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    old, fresh = _token(account.id), _token(account.id, TokenPurpose.RESET_PASSWORD, expires_at=AT + timedelta(days=2))
    async with uow_factory() as uow:
        await uow.account_tokens.add(old)
        await uow.account_tokens.add(fresh)
        await uow.commit()
    later = AT + timedelta(hours=1)
    async with uow_factory() as uow:
        assert await uow.account_tokens.use(old.id, later) is False  # expires_at is exclusive
        assert await uow.account_tokens.count_expired(later + timedelta(seconds=1)) == 1
        assert await uow.account_tokens.delete_expired(later + timedelta(seconds=1), 10) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert [t.id for t in await uow.account_tokens.list_for_account(account.id)] == [fresh.id]


async def test_tokens_are_replaced_and_erased_per_account(uow_factory: UnitOfWorkFactory) -> None:
    account, other = await add_account(uow_factory), await add_account(uow_factory)
    mine = [_token(account.id), _token(account.id, TokenPurpose.CHANGE_EMAIL)]
    theirs = _token(other.id)
    async with uow_factory() as uow:
        for token in (*mine, theirs):
            await uow.account_tokens.add(token)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.account_tokens.delete_for_account(account.id, TokenPurpose.VERIFY_EMAIL) == 1
        assert await uow.account_tokens.delete_for_account(account.id) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.account_tokens.list_for_account(account.id) == []
        assert await uow.account_tokens.list_for_account(other.id) == [theirs]
        with pytest.raises(Conflict):
            await uow.account_tokens.add(_token(other.id, token_hash=theirs.token_hash))
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.account_tokens.add(_token(uuid.uuid4()))


async def test_deleting_an_account_takes_its_tokens_and_sessions(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    async with uow_factory() as uow:
        await uow.account_tokens.add(_token(account.id))
        await uow.sessions.add(AuthSession(uuid.uuid4(), account.id, uuid.uuid4().hex, AT, AT + timedelta(days=1)))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.accounts.delete(account.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.account_tokens.list_for_account(account.id) == []
        assert await uow.sessions.list_for_account(account.id) == []


async def test_sessions_are_listed_touched_and_revoked_but_one(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    first = AuthSession(uuid.uuid4(), account.id, "a" * 64, AT, AT + timedelta(days=7), device_class="desktop")
    second = AuthSession(uuid.uuid4(), account.id, "b" * 64, AT + timedelta(hours=1), AT + timedelta(days=7))
    async with uow_factory() as uow:
        await uow.sessions.add(first)
        await uow.sessions.add(second)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.sessions.touch(first.id, AT + timedelta(minutes=5))
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.sessions.list_for_account(account.id)
        assert [s.id for s in listed] == [second.id, first.id]  # newest first
        assert (listed[1].last_used_at, listed[1].device_class) == (AT + timedelta(minutes=5), "desktop")
        assert await uow.sessions.delete_for_account(account.id, keep=second.id) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.id for s in await uow.sessions.list_for_account(account.id)] == [second.id]


async def test_an_account_locked_by_email_is_held_until_the_unit_of_work_ends(uow_factory: UnitOfWorkFactory) -> None:
    """``lock_by_email_index``: check-then-act on one account (is a sign-in code live? if not, issue one) is done by
    one unit of work at a time; the next one waits, then sees what the first committed."""
    account = await add_account(uow_factory)
    order: list[str] = []

    async def second() -> None:
        async with uow_factory() as uow:
            locked = await uow.accounts.lock_by_email_index(account.email_index)
            assert locked is not None and locked.id == account.id
            order.append("second holds")
            live = await uow.account_tokens.list_for_account(account.id)
            order.append(f"second sees {len(live)} token(s)")

    async with uow_factory() as uow:
        assert await uow.accounts.lock_by_email_index("no-such-index") is None
        locked = await uow.accounts.lock_by_email_index(account.email_index)
        assert locked == account
        waiting = asyncio.create_task(second(), context=contextvars.Context())  # as another request would
        await asyncio.sleep(0.3)  # the second unit of work is waiting for the row now
        order.append("first commits")
        await uow.account_tokens.add(_token(account.id, TokenPurpose.SIGN_IN_CODE))
        await uow.commit()
    await asyncio.wait_for(waiting, 10)
    assert order == ["first commits", "second holds", "second sees 1 token(s)"]
