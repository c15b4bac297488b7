"""Signed-in sessions: sign-in with email and password (throttled per account), bearer tokens, sign-out."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from dreamina.domain.identity.accounts import MAX_PASSWORD, Principal, email_index_of
from dreamina.domain.privacy.errors import AuthenticationFailed, InvalidInput, TooManyAttempts
from dreamina.domain.privacy.validation import normalise_email
from dreamina.ports.clock import Clock
from dreamina.ports.identity import AuthSession
from dreamina.ports.keys import KeyVault
from dreamina.ports.security import AttemptCounter, PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRules:
    """Tunables from configuration."""

    token_ttl: timedelta = timedelta(days=7)
    login_max_failures: int = 5
    login_window_seconds: int = 900


def hash_token(token: str) -> str:
    """Bearer tokens carry 256 random bits, so a plain SHA-256 is enough to make the stored value useless."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class Sessions:
    """Sign-in, authentication of bearer tokens, sign-out. Each method is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        passwords: PasswordHasher,
        clock: Clock,
        attempts: AttemptCounter,
        rules: SessionRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._passwords = passwords
        self._clock = clock
        self._attempts = attempts
        self._rules = rules or SessionRules()
        # A real hash to verify against when no account matches, so timing does not reveal registration.
        self._decoy_hash = passwords.hash(secrets.token_urlsafe(16))

    async def issue_token(self, email: str, password: str) -> IssuedToken:
        """Sign in with email and password; failed attempts per account are throttled."""
        try:
            email = normalise_email(email)
        except InvalidInput as exc:
            raise AuthenticationFailed("email or password is wrong") from exc
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            raise AuthenticationFailed("email or password is wrong")
        email_index = email_index_of(self._vault, email)
        throttle_key = "login:" + self._vault.blind_index("login-throttle", email)
        if await self._attempts.count(throttle_key) >= self._rules.login_max_failures:
            raise TooManyAttempts(
                "too many failed sign-in attempts; try again later",
                retry_after_seconds=max(1, await self._attempts.retry_after(throttle_key)),
            )

        async with self._uow() as uow:
            account = await uow.accounts.get_by_email_index(email_index)
        # Argon2 runs off the event loop and outside any transaction: no connection is held while it works.
        if account is None:
            await asyncio.to_thread(self._passwords.verify, self._decoy_hash, password)
            await self._attempts.hit(throttle_key, self._rules.login_window_seconds)
            raise AuthenticationFailed("email or password is wrong")
        if not await asyncio.to_thread(self._passwords.verify, account.password_hash, password):
            await self._attempts.hit(throttle_key, self._rules.login_window_seconds)
            raise AuthenticationFailed("email or password is wrong")
        if not account.is_active:
            raise AuthenticationFailed("this account cannot sign in")
        rehashed = None
        if self._passwords.needs_rehash(account.password_hash):
            rehashed = await asyncio.to_thread(self._passwords.hash, password)
        now = self._clock.now()
        token = secrets.token_urlsafe(32)
        expires_at = now + self._rules.token_ttl
        async with self._uow() as uow:
            if rehashed is not None:
                current = await uow.accounts.get(account.id)
                if current is not None and current.password_hash == account.password_hash:
                    current.rehash_password(rehashed, now)
                    await uow.accounts.update(current)
            await uow.sessions.add(
                AuthSession(
                    id=uuid.uuid4(),
                    account_id=account.id,
                    token_hash=hash_token(token),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            await uow.commit()
        await self._attempts.reset(throttle_key)
        return IssuedToken(access_token=token, expires_at=expires_at)

    async def authenticate(self, token: str) -> Principal:
        """The principal behind a bearer token; raises AuthenticationFailed if unknown, expired or revoked."""
        if not token or len(token) > 512:
            raise AuthenticationFailed("missing or invalid access token")
        async with self._uow() as uow:
            session = await uow.sessions.get_by_token_hash(hash_token(token))
            if session is None or session.expires_at <= self._clock.now():
                raise AuthenticationFailed("missing or invalid access token")
            account = await uow.accounts.get(session.account_id)
            if account is None or not account.is_active:
                raise AuthenticationFailed("missing or invalid access token")
        return Principal(account_id=session.account_id, session_id=session.id)

    async def sign_out(self, principal: Principal) -> None:
        async with self._uow() as uow:
            await uow.sessions.delete(principal.session_id)
            await uow.commit()
