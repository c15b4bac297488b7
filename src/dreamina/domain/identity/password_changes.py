"""A new password: changed by the signed-in subject (with the current one), or reset through a single-use link mailed
to the account's address. Either way the new password meets the one rule, the owner is told by mail, and sessions
are revoked (every other one on a change, every one on a reset)."""

from __future__ import annotations

import asyncio
import uuid
from uuid import UUID

from dreamina.domain.identity import security_mail
from dreamina.domain.identity.accounts import Principal, email_index_of
from dreamina.domain.identity.password_policy import PasswordPolicy
from dreamina.domain.identity.reauthentication import Reauthentication
from dreamina.domain.identity.sessions import SIGN_IN, SIGN_IN_CODE
from dreamina.domain.identity.tokens import MAX_TOKEN, OneTimeTokens
from dreamina.domain.privacy.errors import AuthenticationFailed, DomainError, InvalidInput, TooManyAttempts
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.secrets import SecretChecks, SecretKind
from dreamina.domain.privacy.validation import normalise_email
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account
from dreamina.ports.keys import KeyVault
from dreamina.ports.security import PasswordHasher
from dreamina.ports.tokens import TokenPurpose
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

RESET_TOKEN = SecretKind.RESET_TOKEN
RESET_MAIL = SecretKind.RESET_MAIL


class ResetTokenInvalid(DomainError):
    """The reset token is unknown, used or expired (400)."""

    code = "invalid_token"
    title = "The link is invalid or has expired"


class PasswordChanges:
    """Each method is one unit of work that commits itself, then delivers its mail."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        keyrings: Keyrings,
        passwords: PasswordHasher,
        policy: PasswordPolicy,
        reauthentication: Reauthentication,
        checks: SecretChecks,
        tokens: OneTimeTokens,
        mail: MailDelivery,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._keyrings = keyrings
        self._passwords = passwords
        self._policy = policy
        self._reauthentication = reauthentication
        self._checks = checks
        self._tokens = tokens
        self._mail = mail
        self._clock = clock

    async def change(self, principal: Principal, current_password: object, new_password: object) -> None:
        """The signed-in subject's new password: every other session is signed out, the owner told by mail."""
        new = self._policy.check(new_password, field="new_password")
        async with self._uow() as uow:
            account = await uow.accounts.get(principal.account_id)
        if account is None:
            raise AuthenticationFailed("missing or invalid access token")
        await self._reauthentication.confirm(account, current_password)
        new_hash = await asyncio.to_thread(self._passwords.hash, new)
        async with self._uow() as uow:
            await self._set_password(uow, account.id, account.password_hash, new_hash, keep=principal.session_id)
        await self._mail.flush(account.id)

    async def request_reset(self, email: object) -> None:
        """Mail a single-use reset link (30 minutes) if the address has an account; the caller answers the same
        either way, and an unknown address is mailed nothing."""
        try:
            address = normalise_email(email) if isinstance(email, str) else None
        except InvalidInput:
            address = None  # answered like any other address: the route reveals nothing
        if address is None:
            return
        async with self._uow() as uow:
            account = await uow.accounts.get_by_email_index(email_index_of(self._vault, address))
        if account is None:
            return
        try:
            await self._checks.admit(RESET_MAIL, address)
        except TooManyAttempts:
            return  # enough links are on their way
        async with self._uow() as uow:
            secret = await self._tokens.issue_link(
                uow, account.id, TokenPurpose.RESET_PASSWORD, security_mail.RESET_TOKEN_TTL
            )
            to = await self._keyrings(uow.subject_keys).open(account.id, "email", account.email_ciphertext)
            # The account id rides in front of the secret so that wrong tokens are throttled per account.
            await self._mail.queue(
                uow, security_mail.reset_link(to, f"{account.id.hex}.{secret}"), subject_id=account.id
            )
            await uow.commit()
        await self._mail.flush(account.id)

    async def complete_reset(self, token: object, new_password: object) -> None:
        """Redeem a reset token for a new password; every session is signed out, the owner told by mail."""
        new = self._policy.check(new_password, field="new_password")
        account_id, secret = _split(token)
        await self._checks.admit(RESET_TOKEN, str(account_id))
        new_hash = await asyncio.to_thread(self._passwords.hash, new)
        async with self._uow() as uow:
            redeemed = await self._tokens.redeem_link(uow, TokenPurpose.RESET_PASSWORD, secret)
            if redeemed is None or redeemed.account_id != account_id:
                raise ResetTokenInvalid("the reset link is invalid, used or expired: ask for a new one")
            account = await uow.accounts.get(account_id)
            if account is None:
                raise ResetTokenInvalid("the reset link is invalid, used or expired: ask for a new one")
            address = await self._set_password(uow, account.id, account.password_hash, new_hash, keep=None)
        await self._checks.passed(RESET_TOKEN, str(account_id))
        # Whoever holds the mailbox is the owner: the sign-in throttle starts afresh for them.
        await self._checks.passed(SIGN_IN, address)
        await self._checks.passed(SIGN_IN_CODE, address)
        await self._mail.flush(account_id)

    async def _set_password(
        self, uow: UnitOfWork, account_id: UUID, old_hash: str, new_hash: str, *, keep: UUID | None
    ) -> str:
        account: Account | None = await uow.accounts.get(account_id)
        if account is None or account.password_hash != old_hash:
            # changed by someone else since it was checked: this change would undo theirs unseen
            raise (
                ResetTokenInvalid("the password changed meanwhile; try again")
                if keep is None
                else AuthenticationFailed("the password changed meanwhile; sign in again")
            )
        now = self._clock.now()
        account.rehash_password(new_hash, now)
        if keep is None and not account.email_verified:
            account.verify_email(now)  # the reset link reached the address: it is proven
        await uow.accounts.update(account)
        revoked = await uow.sessions.delete_for_account(account_id, keep=keep)
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=account_id,
                actor_kind=ActorKind.SUBJECT,
                actor_id=account_id,
                action="password_changed",
                fields=("password_hash",),
                reason=f"{'reset with a mailed code' if keep is None else 'changed by the subject'}; "
                f"{revoked} session(s) signed out",
                occurred_at=now,
            )
        )
        address = await self._keyrings(uow.subject_keys).open(account_id, "email", account.email_ciphertext)
        await self._mail.queue(
            uow, security_mail.password_changed(address, by_reset=keep is None), subject_id=account_id
        )
        await uow.commit()
        return address


def _split(token: object) -> tuple[UUID, str]:
    if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN + 33:
        head, dot, secret = token.partition(".")
        if dot and len(head) == 32 and secret:
            try:
                return UUID(hex=head), secret
            except ValueError:
                pass
    raise ResetTokenInvalid("the reset link is invalid, used or expired: ask for a new one")
