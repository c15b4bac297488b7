"""Two API processes' token caches on one PostgreSQL database: a sign-out, revocation, suspension or erasure
committed by one process (or by the privacy worker) is announced by NOTIFY in its transaction and forgotten by the
other's cache as it commits; a cache that is not listening (its connection lost) holds nothing. Before, another
process kept accepting the token for the cache's seconds, long enough to write rows after an erasure."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from dreamina import bootstrap
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.adapters.sql.database import Database, async_url, upgrade
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.errors import AuthenticationFailed
from dreamina.ports.identity import AuthSession
from dreamina.settings import load_settings

from ..conftest import _create_postgres_database, _drop_postgres_database
from ..contract.test_repositories_contract import NOW, make_account, make_session


@pytest.fixture
async def two_processes(postgres_server_url: str) -> AsyncIterator[tuple[Database, Database, str]]:
    url = await _create_postgres_database(postgres_server_url)
    await upgrade(url)
    first, second = bootstrap.sql_database(url), bootstrap.sql_database(url)
    listeners = [first.revocation_listener(), second.revocation_listener()]
    for listener in listeners:
        assert listener is not None
        await listener.start()
    try:
        yield first, second, url
    finally:
        for listener in listeners:
            await listener.aclose()  # type: ignore[union-attr]
        await first.dispose()
        await second.dispose()
        await _drop_postgres_database(postgres_server_url, url)


async def _signed_in(database: Database) -> AuthSession:
    account = make_account()
    session = make_session(account.id)
    async with database.unit_of_work() as uow:
        await uow.accounts.add(account)
        await uow.sessions.add(session)
        await uow.commit()
    return session


async def _live(database: Database, session: AuthSession) -> AuthSession | None:
    async with database.unit_of_work() as uow:
        return await uow.sessions.get_live_by_token_hash(session.token_hash, NOW)


async def _eventually_refused(database: Database, session: AuthSession) -> None:
    for _ in range(100):
        if await _live(database, session) is None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the other process still accepts the token")


async def test_a_revocation_in_one_process_reaches_the_others_cache(
    two_processes: tuple[Database, Database, str],
) -> None:
    first, second, _ = two_processes
    session = await _signed_in(first)
    assert await _live(second, session) == session  # checked, and now cached by the second process
    async with first.unit_of_work() as uow:
        await uow.sessions.delete_for_account(session.account_id)
        await uow.commit()
    await _eventually_refused(second, session)

    other = await _signed_in(first)
    assert await _live(second, other) == other
    async with first.unit_of_work() as uow:  # a suspension (an erasure starting) keeps the row, changes the status
        account = await uow.accounts.get(other.account_id)
        assert account is not None and account.suspend(NOW)
        await uow.accounts.update(account)
        await uow.commit()
    await _eventually_refused(second, other)


async def test_an_uncommitted_revocation_is_not_announced(two_processes: tuple[Database, Database, str]) -> None:
    first, second, _ = two_processes
    session = await _signed_in(first)
    assert await _live(second, session) == session
    async with first.unit_of_work() as uow:
        await uow.sessions.delete(session.id)  # rolled back: the session lives on
    await asyncio.sleep(0.2)
    assert await _live(second, session) == session


async def test_a_cache_that_stopped_listening_holds_nothing(two_processes: tuple[Database, Database, str]) -> None:
    first, second, url = two_processes
    session = await _signed_in(first)
    assert await _live(second, session) == session
    assert second.principal_cache.get(session.token_hash, NOW) == session
    parsed = async_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password, database=parsed.database
    )
    try:  # every listener's connection ends (a restart, a network cut)
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
    finally:
        await admin.close()
    for _ in range(100):
        if second.principal_cache.get(session.token_hash, NOW) is None:
            break
        await asyncio.sleep(0.02)
    assert second.principal_cache.get(session.token_hash, NOW) is None
    assert dataclasses.replace(session) == await _live(second, session)  # still served, from the database


async def test_the_token_check_answers_from_the_cache_and_hears_revocations(
    two_processes: tuple[Database, Database, str], tmp_path: Path
) -> None:
    """The service's wiring hands the database's principal cache to the token check: a token found live a moment
    ago is answered without a unit of work (here, one would fail), and a sign-out committed by another process ends
    it in this one's cache, after which the check reads the store and refuses the token."""
    first, _, url = two_processes
    settings = load_settings({"DREAMINA_DATABASE_URL": url, "DREAMINA_DATA_DIR": str(tmp_path)})
    container = bootstrap.build_container(settings, passwords=Argon2PasswordHasher.fast(), mailer=InMemoryMailer())
    await container.start()
    try:
        sessions = container.identity.sessions
        await container.identity.registrations.sign_up(
            SignUp("cached@example.com", "correct horse battery staple", date(1990, 1, 1), "DE", None, 1)
        )
        token = (await sessions.issue_token("cached@example.com", "correct horse battery staple")).access_token
        principal = await sessions.authenticate(token)  # read from the store, and cached
        assert container.infra.live_sessions is not None

        def no_store() -> object:
            raise AssertionError("a cached token opened a unit of work")

        read, sessions._read = sessions._read, no_store  # type: ignore[method-assign]
        assert await sessions.authenticate(token) == principal
        sessions._read = read  # type: ignore[method-assign]
        async with first.unit_of_work() as uow:  # another process signs the subject out everywhere
            await uow.sessions.delete_for_account(principal.account_id)
            await uow.commit()
        for _ in range(100):
            try:
                await sessions.authenticate(token)
            except AuthenticationFailed:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the revoked token is still accepted")
    finally:
        await container.aclose()
