"""One throttle for every check of a secret: a password (sign-in, re-authentication, privacy-request proof), a
one-time code, a token.

Each check is counted *before* the secret is looked at, with the attempt counter's atomic increment, so however many
guesses arrive at once, at most ``limit`` of them are ever checked per owner and window (a check-then-count throttle
lets a burst through). The key is a keyed hash of the owner (an account id, or an address for sign-in), so the
counter never holds personal data. A successful check clears the count.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dreamina.domain.privacy.errors import TooManyAttempts
from dreamina.ports.keys import KeyVault
from dreamina.ports.security import AttemptCounter

THROTTLE_INDEX = "secret-checks"


class SecretKind(enum.StrEnum):
    """What is being checked; each kind has its own budget per owner."""

    SIGN_IN = "sign_in"  # a password at sign-in (owner: the normalised address, known or not)
    SIGN_IN_CODE = "sign_in_code"  # a mailed sign-in code, past the sign-in limit (owner: the normalised address)
    PASSWORD = "password"  # noqa: S105 - a signed-in subject's password: current_password, privacy-request proofs
    PRIVACY_CODE = "privacy_code"  # a one-time identity code of a privacy request (owner: the account id)
    RESET_TOKEN = "reset_token"  # noqa: S105 - a password-reset code (owner: the account id it names)
    RESET_MAIL = "reset_mail"  # reset codes mailed (owner: the address): the route mails nobody in bulk


@dataclass(frozen=True, slots=True)
class ThrottleRules:
    limit: int = 5  # checks of one kind of secret per owner per window
    window_seconds: int = 900


class SecretChecks:
    def __init__(self, attempts: AttemptCounter, vault: KeyVault, rules: ThrottleRules | None = None) -> None:
        self._attempts = attempts
        self._vault = vault
        self.rules = rules or ThrottleRules()

    async def admit(self, kind: str, owner: str) -> None:
        """Count one check of ``kind`` (``password``, ``code``, ``token``) for ``owner``; raises
        :class:`TooManyAttempts` once past the limit, before anything is checked."""
        key = self._key(kind, owner)
        if await self._attempts.hit(key, self.rules.window_seconds) > self.rules.limit:
            raise TooManyAttempts(
                "too many attempts; try again later",
                retry_after_seconds=max(1, await self._attempts.retry_after(key)),
            )

    async def exceeded(self, kind: str, owner: str) -> bool:
        """Whether ``owner`` has used up the checks of ``kind`` in the current window (nothing is counted)."""
        return await self._attempts.count(self._key(kind, owner)) >= self.rules.limit

    async def first(self, kind: str, owner: str, window_seconds: int) -> bool:
        """Count one event of ``kind`` for ``owner`` in a window of ``window_seconds``; True for the first only
        (atomic: of any number at once, one is first). For things done once per window, like mailing a code."""
        return await self._attempts.hit(self._key(kind, owner), window_seconds) == 1

    async def passed(self, kind: str, owner: str) -> None:
        """The secret was right: its owner starts afresh."""
        await self._attempts.reset(self._key(kind, owner))

    def _key(self, kind: str, owner: str) -> str:
        return f"secret:{kind}:" + self._vault.blind_index(THROTTLE_INDEX, owner)
