"""Re-authentication: a signed-in subject proves again that they know the password before a change that hands the
account over (a new email address, a new password). Every check goes through the one throttle for secrets."""

from __future__ import annotations

import asyncio

from dreamina.domain.identity.accounts import MAX_PASSWORD
from dreamina.domain.privacy.errors import DomainError
from dreamina.domain.privacy.secrets import SecretChecks, SecretKind
from dreamina.ports.identity import Account
from dreamina.ports.security import PasswordHasher

PASSWORD_CHECK = SecretKind.PASSWORD


class ReauthenticationRequired(DomainError):
    """The ``current_password`` given with a sensitive change is missing or wrong (403)."""

    code = "reauthentication_required"
    title = "Your current password is needed"


class Reauthentication:
    """Checks a signed-in subject's ``current_password``: counted by :class:`SecretChecks` *before* the hash is
    verified (kind ``password``, owner the account id, the budget privacy-request password proofs share), so past
    the limit nothing is verified and :class:`~dreamina.domain.privacy.errors.TooManyAttempts` (429) answers."""

    def __init__(self, checks: SecretChecks, passwords: PasswordHasher) -> None:
        self._checks = checks
        self._passwords = passwords

    async def confirm(self, account: Account, password: object) -> None:
        """Return if ``password`` is the account's; raise :class:`ReauthenticationRequired` otherwise. Call it
        outside any unit of work: Argon2 runs off the event loop and no connection should wait for it."""
        if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD:
            raise ReauthenticationRequired("give your current password (current_password)", field="current_password")
        owner = str(account.id)
        await self._checks.admit(PASSWORD_CHECK, owner)
        if not await asyncio.to_thread(self._passwords.verify, account.password_hash, password):
            raise ReauthenticationRequired("the current password is wrong", field="current_password")
        await self._checks.passed(PASSWORD_CHECK, owner)


async def reauthenticate(checks: SecretChecks, passwords: PasswordHasher, account: Account, password: object) -> None:
    """:meth:`Reauthentication.confirm` for callers that hold the throttle and hasher themselves."""
    await Reauthentication(checks, passwords).confirm(account, password)
