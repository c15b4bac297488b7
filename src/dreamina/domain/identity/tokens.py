"""One-time tokens an account proves something with (ports/tokens.py): issued into a mail, stored as a keyed hash,
redeemed at most once before they expire.

Links carry 256 random bits; codes (typed by a person) six digits, hashed with the account id so two accounts'
codes never collide. A newer token of the same purpose replaces the older ones, so only the last mail works.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from uuid import UUID

from dreamina.domain.privacy.keyring import Keyrings
from dreamina.ports.clock import Clock
from dreamina.ports.keys import KeyVault
from dreamina.ports.tokens import AccountToken, TokenPurpose
from dreamina.ports.unit_of_work import UnitOfWork

TOKEN_INDEX = "account-token"  # noqa: S105 - the name of a blind index, not a secret
MAX_TOKEN = 128  # longer input is no token of ours: refused before any work


class OneTimeTokens:
    def __init__(self, *, vault: KeyVault, keyrings: Keyrings, clock: Clock) -> None:
        self._vault = vault
        self._keyrings = keyrings
        self._clock = clock

    async def issue_link(
        self,
        uow: UnitOfWork,
        account_id: UUID,
        purpose: TokenPurpose,
        ttl: timedelta,
        payload: str | None = None,
        *,
        replace: bool = True,
    ) -> str:
        """A token for a link in a mail; ``payload`` (e.g. an address) is sealed with the subject's key.
        ``replace=False`` keeps the older live tokens of the purpose (an undo link must survive a later change)."""
        token = secrets.token_urlsafe(32)
        await self._store(uow, account_id, purpose, ttl, self._hash(purpose, token), payload, replace=replace)
        return token

    async def issue_code(self, uow: UnitOfWork, account_id: UUID, purpose: TokenPurpose, ttl: timedelta) -> str:
        """A six-digit code a person types (sign-in past the password throttle)."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        await self._store(uow, account_id, purpose, ttl, self._hash(purpose, f"{account_id}:{code}"), None)
        return code

    async def redeem_link(self, uow: UnitOfWork, purpose: TokenPurpose, token: str) -> AccountToken | None:
        """The token's record, now used; None for a token that is unknown, used, or expired."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            return None
        return await self._use(uow, await uow.account_tokens.find(purpose, self._hash(purpose, token)))

    async def redeem_code(
        self, uow: UnitOfWork, account_id: UUID, purpose: TokenPurpose, code: str
    ) -> AccountToken | None:
        if not isinstance(code, str) or not 0 < len(code) <= MAX_TOKEN:
            return None
        return await self._use(uow, await uow.account_tokens.find(purpose, self._hash(purpose, f"{account_id}:{code}")))

    async def payload(self, uow: UnitOfWork, token: AccountToken) -> str | None:
        if token.payload_ciphertext is None:
            return None
        return await self._keyrings(uow.subject_keys).open(token.account_id, _field(token), token.payload_ciphertext)

    async def _store(
        self,
        uow: UnitOfWork,
        account_id: UUID,
        purpose: TokenPurpose,
        ttl: timedelta,
        token_hash: str,
        payload: str | None,
        *,
        replace: bool = True,
    ) -> None:
        now = self._clock.now()
        token_id = uuid.uuid4()
        sealed = None
        if payload is not None:
            sealed = await self._keyrings(uow.subject_keys).seal(account_id, f"token/{token_id}", payload)
        if replace:
            await uow.account_tokens.delete_for_account(account_id, purpose)
        await uow.account_tokens.add(
            AccountToken(
                id=token_id,
                account_id=account_id,
                purpose=purpose,
                token_hash=token_hash,
                created_at=now,
                expires_at=now + ttl,
                payload_ciphertext=sealed,
            )
        )

    async def _use(self, uow: UnitOfWork, found: AccountToken | None) -> AccountToken | None:
        if found is None or not await uow.account_tokens.use(found.id, self._clock.now()):
            return None
        return found

    def _hash(self, purpose: TokenPurpose, secret: str) -> str:
        return self._vault.blind_index(TOKEN_INDEX, f"{purpose.value}|{secret}")


def _field(token: AccountToken) -> str:
    return f"token/{token.id}"
