"""What a subject proves before a change that could hand their account to someone else: their password again
(re-authentication, counted by the one secret throttle), or a one-time link mailed to an address."""

from __future__ import annotations

import asyncio

from dreamina.domain.identity.accounts import MAX_PASSWORD
from dreamina.domain.privacy.errors import DomainError
from dreamina.domain.privacy.secrets import SecretChecks
from dreamina.ports.identity import Account
from dreamina.ports.security import PasswordHasher

PASSWORD_CHECK = "password"  # noqa: S105 - the SecretChecks kind, not a secret


class ReauthenticationRequired(DomainError):
    """The change needs the account's current password, and it was missing or wrong."""

    code = "reauthentication_required"
    title = "Confirm your current password"


class InvalidToken(DomainError):
    """A one-time link that is unknown, already used or expired (the three are not told apart)."""

    code = "invalid_token"
    title = "The link is invalid or has expired"


async def reauthenticate(
    checks: SecretChecks, passwords: PasswordHasher, account: Account, password: str | None
) -> None:
    """The one place a signed-in subject proves their password again. Each check is counted *before* the hash is
    looked at (past the limit: ``TooManyAttempts``); a wrong or missing password is
    :class:`ReauthenticationRequired`."""
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD:
        raise ReauthenticationRequired("give current_password to make this change")
    await checks.admit(PASSWORD_CHECK, str(account.id))
    if not await asyncio.to_thread(passwords.verify, account.password_hash, password):
        raise ReauthenticationRequired("current_password is wrong")
    await checks.passed(PASSWORD_CHECK, str(account.id))
