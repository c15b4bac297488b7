"""Signed-in sessions: sign-in with email and password (one throttle for every secret; past it, a mailed code), bearer
tokens, the subject's list of sessions, sign-out here, there or everywhere.

Sign-in is counted by :class:`~dreamina.domain.privacy.secrets.SecretChecks` *before* the password is verified
(owner: the normalised address, so unknown addresses are throttled alike): however many guesses arrive at once, at
most ``limit`` hashes are verified per address and window. Past the limit the owner is not locked out: every attempt
without a code answers 401 ``code_required`` (the same whether the password is right or wrong: nothing is verified,
so the guess is no check) and a six-digit code is mailed to the account's address (one live code at a time); then
``{email, password, code}`` signs in: the code is checked first (throttled as kind ``sign_in_code``), the password
only for the holder of a right code.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from dreamina.domain.identity import security_mail
from dreamina.domain.identity.accounts import MAX_PASSWORD, Principal, email_index_of
from dreamina.domain.identity.tokens import OneTimeTokens
from dreamina.domain.privacy.errors import AuthenticationFailed, InvalidInput, NotFound, StoreBusy, TooManyAttempts
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.secrets import SecretChecks, SecretKind
from dreamina.domain.privacy.validation import normalise_email
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account, AuthSession, LiveSessionCache
from dreamina.ports.keys import KeyVault
from dreamina.ports.security import PasswordHasher
from dreamina.ports.tokens import TokenPurpose
from dreamina.ports.unit_of_work import UnitOfWorkFactory, reader_of

SIGN_IN = SecretKind.SIGN_IN
SIGN_IN_CODE = SecretKind.SIGN_IN_CODE
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is kept coarse so that reads rarely write
WRONG = "email or password is wrong"


class SignInCodeRequired(AuthenticationFailed):
    """Past the sign-in throttle: sign in again with the code mailed to the account's address (401)."""

    code = "code_required"
    title = "A sign-in code is needed"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRules:
    """Tunables from configuration (the throttle's limit and window are :class:`SecretChecks`' rules)."""

    token_ttl: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SessionView:
    """One of the subject's sessions as they see it: no token, no address."""

    id: UUID
    created_at: datetime
    last_used_at: datetime | None
    device_class: str | None
    current: bool


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
        keyrings: Keyrings,
        passwords: PasswordHasher,
        clock: Clock,
        checks: SecretChecks,
        tokens: OneTimeTokens,
        mail: MailDelivery,
        device_class_of: Callable[[str], str] | None = None,
        rules: SessionRules | None = None,
        live_sessions: LiveSessionCache | None = None,
    ) -> None:
        """``live_sessions``: the store's cache of sessions found live (a hit opens no unit of work)."""
        self._uow = uow
        self._live = live_sessions
        self._read = reader_of(uow)
        self._vault = vault
        self._keyrings = keyrings
        self._passwords = passwords
        self._clock = clock
        self._checks = checks
        self._tokens = tokens
        self._mail = mail
        self._device_class_of = device_class_of
        self._rules = rules or SessionRules()
        # A real hash to verify against when no account matches, so timing does not reveal registration.
        self._decoy_hash = passwords.hash(secrets.token_urlsafe(16))

    async def issue_token(
        self, email: str, password: str, code: str | None = None, *, user_agent: str = ""
    ) -> IssuedToken:
        """Sign in with email and password (and, past the throttle, the mailed code)."""
        try:
            email = normalise_email(email)
        except InvalidInput as exc:
            raise AuthenticationFailed(WRONG) from exc
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            raise AuthenticationFailed(WRONG)
        account: Account | None
        if code is not None:
            account = await self._redeem_code(email, code)
        else:
            try:
                await self._checks.admit(SIGN_IN, email)
            except TooManyAttempts:
                await self._challenge(email)
                raise SignInCodeRequired(
                    "too many failed sign-ins for this address: sign in with the code we mailed to it"
                ) from None
            async with self._uow() as uow:
                account = await uow.accounts.get_by_email_index(email_index_of(self._vault, email))
        # Argon2 runs off the event loop and outside any transaction: no connection is held while it works.
        if account is None:
            await asyncio.to_thread(self._passwords.verify, self._decoy_hash, password)
            raise AuthenticationFailed(WRONG)
        if not await asyncio.to_thread(self._passwords.verify, account.password_hash, password):
            raise AuthenticationFailed(WRONG)
        if not account.is_active:
            raise AuthenticationFailed("this account cannot sign in")
        await self._checks.passed(SIGN_IN, email)
        await self._checks.passed(SIGN_IN_CODE, email)
        return await self._open_session(account, password, user_agent)

    async def authenticate(self, token: str) -> Principal:
        """The principal behind a bearer token; raises AuthenticationFailed if unknown, expired or revoked."""
        if not token or len(token) > 512:
            raise AuthenticationFailed("missing or invalid access token")
        now = self._clock.now()
        token_hash = hash_token(token)
        # Most requests find the session in the process's cache: no unit of work at all. Else a read-only one (no
        # transaction, nor on PostgreSQL its BEGIN and ROLLBACK); only a touch, at most every TOUCH_EVERY, writes.
        session = None if self._live is None else self._live.get(token_hash, now)
        if session is None:
            async with self._read() as uow:
                session = await uow.sessions.get_live_by_token_hash(token_hash, now)  # one read, joined
        if session is None:
            raise AuthenticationFailed("missing or invalid access token")
        if session.last_used_at is None or now - session.last_used_at >= TOUCH_EVERY:
            async with self._uow() as uow:
                await uow.sessions.touch(session.id, now)
                await uow.commit()
        return Principal(account_id=session.account_id, session_id=session.id)

    async def sign_out(self, principal: Principal) -> None:
        async with self._uow() as uow:
            await uow.sessions.delete(principal.session_id)
            await uow.commit()

    async def sign_out_everywhere(self, principal: Principal) -> int:
        """Revoke every session of the subject, this one included; returns how many there were."""
        async with self._uow() as uow:
            revoked = await uow.sessions.delete_for_account(principal.account_id)
            await uow.commit()
        return revoked

    async def list_sessions(self, principal: Principal) -> list[SessionView]:
        """The subject's live sessions, newest first."""
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.sessions.list_for_account(principal.account_id)
        return [
            SessionView(s.id, s.created_at, s.last_used_at, s.device_class, s.id == principal.session_id)
            for s in found
            if s.expires_at > now
        ]

    async def revoke(self, principal: Principal, session_id: UUID) -> None:
        """Sign one of the subject's own sessions out; another subject's session is simply not found."""
        async with self._uow() as uow:
            owned = {s.id for s in await uow.sessions.list_for_account(principal.account_id)}
            if session_id not in owned:
                raise NotFound("no such session")
            await uow.sessions.delete(session_id)
            await uow.commit()

    # -- internals ---------------------------------------------------------------------------------------------

    async def _challenge(self, email: str) -> None:
        """Past the throttle: mail a sign-in code to the account's address unless one is live (unused, unexpired):
        once per code lifetime, or again once the last code was used. An attacker's attempts never replace the code
        the owner is typing, nor flood the mailbox: the account is locked while a challenge looks for a live code and
        issues one, so of a burst (however it interleaves) the first issues the code and the rest see it."""
        ttl = security_mail.SIGN_IN_CODE_TTL
        try:
            async with self._uow() as uow:
                account = await uow.accounts.lock_by_email_index(email_index_of(self._vault, email))
                if account is None or not account.is_active:
                    return
                now = self._clock.now()  # after the wait for the lock
                if any(
                    t.purpose is TokenPurpose.SIGN_IN_CODE and t.used_at is None and t.expires_at > now
                    for t in await uow.account_tokens.list_for_account(account.id)
                ):
                    return
                code = await self._tokens.issue_code(uow, account.id, TokenPurpose.SIGN_IN_CODE, ttl)
                address = await self._keyrings(uow.subject_keys).open(account.id, "email", account.email_ciphertext)
                await self._mail.queue(uow, security_mail.sign_in_code(address, code), subject_id=account.id)
                await uow.commit()
        except StoreBusy:
            return  # a concurrent attempt is issuing the code
        await self._mail.flush(account.id)

    async def _redeem_code(self, email: str, code: str) -> Account:
        """The account whose live sign-in code ``code`` is (now used); counted before it is checked."""
        await self._checks.admit(SIGN_IN_CODE, email)
        async with self._uow() as uow:
            account = await uow.accounts.get_by_email_index(email_index_of(self._vault, email))
            redeemed = account is not None and await self._tokens.redeem_code(
                uow, account.id, TokenPurpose.SIGN_IN_CODE, str(code)
            )
            if account is None or redeemed is None:
                raise AuthenticationFailed("email, password or code is wrong")
            await uow.commit()
        return account

    async def _open_session(self, account: Account, password: str, user_agent: str) -> IssuedToken:
        rehashed = None
        if self._passwords.needs_rehash(account.password_hash):
            rehashed = await asyncio.to_thread(self._passwords.hash, password)
        now = self._clock.now()
        token = secrets.token_urlsafe(32)
        expires_at = now + self._rules.token_ttl
        device = self._device_class_of(user_agent[:512]) if self._device_class_of else None
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
                    last_used_at=now,
                    device_class=device,
                )
            )
            await uow.commit()
        return IssuedToken(access_token=token, expires_at=expires_at)
