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

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from dreamina.ports.identity import AuthSession

INFO_KEY = "dreamina_principal_cache"
CHANGES_KEY = "dreamina_principal_changes"


class PrincipalCache:
    def __init__(self, ttl: float, *, max_entries: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[AuthSession, float]] = OrderedDict()  # token hash -> (session, at)
        self._by_account: dict[UUID, set[str]] = {}
        self._by_session: dict[UUID, str] = {}

    def get(self, token_hash: str, now: datetime) -> AuthSession | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        session, stored_at = entry
        if self._clock() - stored_at >= self.ttl or session.expires_at <= now:
            self._drop(token_hash)
            return None
        return session

    def put(self, session: AuthSession) -> None:
        if self.ttl <= 0:
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


def record_change(info: dict[str, Any], change: tuple[str, UUID]) -> None:
    """A repository's write that may end sessions: forgotten now, and again once the unit of work commits."""
    cache: PrincipalCache | None = info.get(INFO_KEY)
    if cache is not None:
        cache.forget(change)
        info.setdefault(CHANGES_KEY, []).append(change)


def apply_committed(info: dict[str, Any]) -> None:
    cache: PrincipalCache | None = info.get(INFO_KEY)
    for change in info.pop(CHANGES_KEY, ()):
        if cache is not None:
            cache.forget(change)
