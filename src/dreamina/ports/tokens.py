"""One-time tokens an account proves something with: a verification link, an email change, a password reset, a
sign-in code. Only a keyed hash of each token is stored; a token is used at most once and dies at its expiry."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"  # the sign-up address, or a resend
    CHANGE_EMAIL = "change_email"  # sent to the new address; its payload is that address, sealed
    UNDO_EMAIL_CHANGE = "undo_email_change"  # sent to the old address; its payload is the old address, sealed
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a secret
    SIGN_IN_CODE = "sign_in_code"  # a mailed code that sign-in needs once the password throttle is exceeded


@dataclass(frozen=True, slots=True)
class AccountToken:
    id: UUID
    account_id: UUID
    purpose: TokenPurpose
    token_hash: str  # keyed hash of the token (never the token)
    created_at: datetime
    expires_at: datetime
    payload_ciphertext: bytes | None = None  # sealed with the subject's data key
    used_at: datetime | None = None


class AccountTokenRepository(Protocol):
    async def add(self, token: AccountToken) -> None: ...

    async def find(self, purpose: TokenPurpose, token_hash: str) -> AccountToken | None:
        """The token of ``purpose`` whose hash is ``token_hash``, used or not, expired or not."""
        ...

    async def use(self, token_id: UUID, at: datetime) -> bool:
        """Mark the token used if it is unused and unexpired at ``at`` (compare-and-set: of two redemptions at
        once, one wins). False when it was already used or has expired."""
        ...

    async def list_for_account(self, account_id: UUID) -> list[AccountToken]:
        """The account's tokens, oldest first (the access report counts them; they are never exported)."""
        ...

    async def delete_for_account(self, account_id: UUID, purpose: TokenPurpose | None = None) -> int:
        """Forget the account's tokens (of one purpose if given): erasure, or a newer token replacing older ones."""
        ...

    async def count_expired(self, now: datetime) -> int: ...

    async def delete_expired(self, now: datetime, limit: int) -> int:
        """Retention: delete at most ``limit`` tokens that expired before ``now``; returns how many."""
        ...


class TokenStores(Protocol):
    """The identity module's one-time tokens in a unit of work."""

    account_tokens: AccountTokenRepository
