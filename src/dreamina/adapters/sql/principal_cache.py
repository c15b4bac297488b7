"""A per-process read-through cache of live sessions by token hash: the bearer-token check of a busy subject costs
no database round trip for a few seconds at a time.

Safe because of what invalidates it. Every write that can end a session's validity goes through the session and
account repositories of this process (sign-out, sign-out everywhere, revoking one session, a password or email
change, erasure, suspension, age review: ``delete``, ``delete_for_account``, ``accounts.update``/``delete``), which
forget the affected entries at once and again when their unit of work commits (a read racing the write cannot put
the old row back for longer than that). Expiry is checked on every hit against the caller's clock. What another
process changes is seen here within ``ttl`` seconds (``DREAMINA_SESSION_CACHE_SECONDS``, 0 turns the cache off).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamina.adapters.logs import get_logger
from dreamina.ports.identity import AuthSession

log = get_logger("dreamina.sessions")

INFO_KEY = "dreamina_principal_cache"
CHANGES_KEY = "dreamina_principal_changes"
NOTIFY_KEY = "dreamina_principal_notify"  # set on PostgreSQL: changes are also announced to other processes
CHANNEL = "dreamina_principals"


class PrincipalCache:
    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
        needs_listener: bool = False,
    ) -> None:
        """``needs_listener``: other processes may end sessions (PostgreSQL): cache only while listening for them."""
        self.ttl = ttl
        self._needs_listener = needs_listener
        self._listening = False
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[AuthSession, float]] = OrderedDict()  # token hash -> (session, at)
        self._by_account: dict[UUID, set[str]] = {}
        self._by_session: dict[UUID, str] = {}

    @property
    def active(self) -> bool:
        return self.ttl > 0 and (self._listening or not self._needs_listener)

    def listening(self, on: bool) -> None:
        """The listener connected (``True``) or lost its connection: then nothing it might have missed is kept."""
        self._listening = on
        if not on:
            self._entries.clear()
            self._by_account.clear()
            self._by_session.clear()

    def on_notice(self, payload: str) -> None:
        kind, _, identifier = payload.partition(":")
        try:
            self.forget((kind, UUID(identifier)))
        except ValueError:
            return

    def get(self, token_hash: str, now: datetime) -> AuthSession | None:
        if not self.active:
            return None
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        session, stored_at = entry
        if self._clock() - stored_at >= self.ttl or session.expires_at <= now:
            self._drop(token_hash)
            return None
        return session

    def put(self, session: AuthSession) -> None:
        if not self.active:
            return
        self._entries[session.token_hash] = (session, self._clock())
        self._entries.move_to_end(session.token_hash)
        self._by_account.setdefault(session.account_id, set()).add(session.token_hash)
        self._by_session[session.id] = session.token_hash
        while len(self._entries) > self._max:
            self._drop(next(iter(self._entries)))

    def touched(self, session_id: UUID, at: datetime) -> None:
        """Keep a cached session's ``last_used_at`` current (so the check does not touch it again)."""
        token_hash = self._by_session.get(session_id)
        entry = None if token_hash is None else self._entries.get(token_hash)
        if token_hash is not None and entry is not None:
            self._entries[token_hash] = (replace(entry[0], last_used_at=at), entry[1])

    def forget(self, change: tuple[str, UUID]) -> None:
        kind, identifier = change
        if kind == "account":
            for token_hash in list(self._by_account.get(identifier, ())):
                self._drop(token_hash)
        else:
            found = self._by_session.get(identifier)
            if found is not None:
                self._drop(found)

    def _drop(self, token_hash: str) -> None:
        entry = self._entries.pop(token_hash, None)
        if entry is not None:
            self._by_session.pop(entry[0].id, None)
            hashes = self._by_account.get(entry[0].account_id)
            if hashes is not None:
                hashes.discard(token_hash)
                if not hashes:
                    del self._by_account[entry[0].account_id]


async def record_change(session: AsyncSession, change: tuple[str, UUID]) -> None:
    """A repository's write that may end sessions: forgotten now and again once the unit of work commits, and on
    PostgreSQL announced to every other process when it commits (NOTIFY is transactional)."""
    cache: PrincipalCache | None = session.info.get(INFO_KEY)
    if cache is not None:
        cache.forget(change)
        session.info.setdefault(CHANGES_KEY, []).append(change)
    if session.info.get(NOTIFY_KEY):
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": f"{change[0]}:{change[1]}"}
        )


def apply_committed(info: dict[str, Any]) -> None:
    cache: PrincipalCache | None = info.get(INFO_KEY)
    for change in info.pop(CHANGES_KEY, ()):
        if cache is not None:
            cache.forget(change)


class RevocationListener:
    """Keeps one connection LISTENing on :data:`CHANNEL` for this process's cache; reconnects after a loss (the
    cache holds nothing meanwhile)."""

    def __init__(self, dsn: str, cache: PrincipalCache, *, retry_seconds: float = 1.0) -> None:
        self._dsn = dsn
        self._cache = cache
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        connected = asyncio.Event()
        self._task = asyncio.create_task(self._run(connected))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(connected.wait(), timeout=5.0)  # no cache until it listens, either way

    async def _run(self, connected: asyncio.Event) -> None:
        import asyncpg  # type: ignore[import-untyped]

        while True:
            lost = asyncio.Event()
            connection = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=5.0)
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self._cache.on_notice(payload))
                self._cache.listening(True)
                connected.set()
                await lost.wait()
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                log.warning("principal_listener_unavailable", error_type=type(error).__name__)
            finally:
                self._cache.listening(False)
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2.0)
            await asyncio.sleep(self._retry)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
