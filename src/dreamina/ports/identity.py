"""Accounts and signed-in sessions, as the identity module stores them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dreamina.ports.staff import StaffRepository


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    AGE_REVIEW = "age_review"  # a child report is open: the holder keeps their rights, creates nothing new
    SUSPENDED = "suspended"
    ERASED = "erased"


NOTIFIED_STATUSES = frozenset({AccountStatus.ACTIVE, AccountStatus.AGE_REVIEW})
SIGN_IN_STATUSES = frozenset({AccountStatus.ACTIVE, AccountStatus.AGE_REVIEW})  # whose sessions are honoured
"""Accounts told of policy changes: those that may still sign in (an age review keeps the holder's rights)."""


@dataclass(slots=True)
class Account:
    """An account. Direct identifiers are only ever held sealed with the subject's data key."""

    id: UUID
    email_index: str
    email_ciphertext: bytes
    display_name_ciphertext: bytes | None
    birth_date_ciphertext: bytes
    country: str
    region: str | None
    password_hash: str
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    content_retention_days: int | None = None  # generations are deleted this many days after; None: kept
    email_verified_at: datetime | None = None  # when the current address proved it reaches the subject

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def verify_email(self, now: datetime) -> None:
        """The current address answered a verification mail."""
        self.email_verified_at = now
        self.updated_at = now

    @property
    def is_active(self) -> bool:
        """Only an active account, or one under age review, signs in and has its tokens accepted (a holder under
        review still reads, exports and deletes their data and answers the review)."""
        return self.status in SIGN_IN_STATUSES

    @property
    def under_age_review(self) -> bool:
        """A child report is open: generation, uploads and purchases are refused until staff decide."""
        return self.status is AccountStatus.AGE_REVIEW

    def place_under_age_review(self, now: datetime) -> bool:
        """A child report about an active account: returns whether it was active until now (an account already
        under review, suspended or erased stays as it is)."""
        if self.status is not AccountStatus.ACTIVE:
            return False
        self._become(AccountStatus.AGE_REVIEW, now)
        return True

    def lift_age_review(self, now: datetime) -> bool:
        """Staff dismissed the report: the account is active again; returns whether it was under review."""
        if self.status is not AccountStatus.AGE_REVIEW:
            return False
        self._become(AccountStatus.ACTIVE, now)
        return True

    def suspend(self, now: datetime) -> bool:
        """Sign-in and tokens are refused while an erasure runs. Returns whether it was active (or under age
        review) until now (an account already suspended stays as it is)."""
        if self.status not in (AccountStatus.ACTIVE, AccountStatus.AGE_REVIEW):
            return False
        self._become(AccountStatus.SUSPENDED, now)
        return True

    def reactivate(self, now: datetime) -> bool:
        """A suspended account is active again; returns whether it was suspended. (Child reports no longer suspend:
        migration 0013 put the accounts they had suspended under age review.)"""
        if self.status is not AccountStatus.SUSPENDED:
            return False
        self._become(AccountStatus.ACTIVE, now)
        return True

    def rehash_password(self, password_hash: str, now: datetime) -> None:
        """The same password under the hasher's current parameters."""
        self.password_hash = password_hash
        self.updated_at = now

    def correct_email(
        self, email_index: str, email_ciphertext: bytes, now: datetime, *, verified: bool = False
    ) -> None:
        """A new address; it is verified only if the change was confirmed from that address."""
        self.email_index = email_index
        self.email_ciphertext = email_ciphertext
        self.email_verified_at = now if verified else None
        self.updated_at = now

    def correct_display_name(self, display_name_ciphertext: bytes | None, now: datetime) -> None:
        self.display_name_ciphertext = display_name_ciphertext
        self.updated_at = now

    def correct_birth_date(self, birth_date_ciphertext: bytes, now: datetime) -> None:
        self.birth_date_ciphertext = birth_date_ciphertext
        self.updated_at = now

    def choose_content_retention(self, days: int | None, now: datetime) -> None:
        self.content_retention_days = days
        self.updated_at = now

    def _become(self, status: AccountStatus, now: datetime) -> None:
        self.status = status
        self.updated_at = now


@dataclass(frozen=True, slots=True)
class AuthSession:
    """A signed-in session. Only the SHA-256 of its bearer token is kept."""

    id: UUID
    account_id: UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None  # kept coarse (minutes) so reads rarely write
    device_class: str | None = None  # desktop, mobile, tablet, bot or other; never the user agent itself


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None:
        """Store a new account; raises :class:`~dreamina.domain.privacy.errors.Conflict` if the email index is taken."""
        ...

    async def get(self, account_id: UUID) -> Account | None: ...

    async def get_by_email_index(self, email_index: str) -> Account | None: ...

    async def lock_by_email_index(self, email_index: str) -> Account | None:
        """The account, held until this unit of work ends: another unit of work locking it waits, then sees what
        this one committed (a row lock). For check-then-act on one account, such as mailing one sign-in code."""
        ...

    async def update(self, account: Account) -> None:
        """Persist changed fields; raises ``Conflict`` if a changed email index is taken, ``NotFound`` if gone."""
        ...

    async def delete(self, account_id: UUID) -> bool:
        """Erasure: remove the account row (its sessions go with it); True if it existed."""
        ...


class SessionRepository(Protocol):
    async def add(self, session: AuthSession) -> None: ...

    async def get_by_token_hash(self, token_hash: str) -> AuthSession | None: ...

    async def get_live_by_token_hash(self, token_hash: str, now: datetime) -> AuthSession | None:
        """The session with this token if it is unexpired at ``now`` and its account may use it (active, or under
        age review): the bearer-token check in one read, the session joined with its account's status."""
        ...

    async def delete(self, session_id: UUID) -> bool:
        """Remove one session; True if it existed."""
        ...

    async def delete_for_account(self, account_id: UUID, *, keep: UUID | None = None) -> int:
        """Revoke every session of an account (but ``keep``, the one asking); returns how many there were."""
        ...

    async def list_for_account(self, account_id: UUID) -> list[AuthSession]:
        """The account's sessions, newest first."""
        ...

    async def touch(self, session_id: UUID, at: datetime) -> None:
        """Record that the session was used at ``at``."""
        ...

    async def delete_expired(self, now: datetime, limit: int) -> int:
        """Delete at most ``limit`` sessions that expired before ``now``; returns how many."""
        ...

    async def count_expired(self, now: datetime) -> int:
        """How many sessions expired before ``now`` (for dry runs of the retention sweep)."""
        ...


class LiveSessionCache(Protocol):
    """Sessions this process found live a moment ago (the SQL store's principal cache, which a sign-out or an account
    change in any process ends): a hit answers a bearer token without opening a unit of work."""

    def get(self, token_hash: str, now: datetime) -> AuthSession | None: ...


class IdentityStores(Protocol):
    """The identity module's stores in a unit of work (staff roles included: they are accounts with a role)."""

    accounts: AccountRepository
    sessions: SessionRepository
    staff: StaffRepository
