"""Password hashing with Argon2id."""

from __future__ import annotations

from functools import cache

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2PasswordHasher:
    """Argon2id via argon2-cffi; parameters are passed in so deployments can tune them."""

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 1) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )

    @classmethod
    def fast(cls) -> Argon2PasswordHasher:
        """Cheap parameters for tests; never use in production."""
        return cls(time_cost=1, memory_cost=1024, parallelism=1)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError, ValueError, TypeError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True if the hash uses other parameters than this hasher's (or cannot be parsed at all)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True


class ZxcvbnCommonPasswords:
    """:class:`~dreamina.ports.security.CommonPasswords` from zxcvbn's shipped lists (the 30,000 most common leaked
    passwords, with English words and names): a password is common if it is on the list, or if zxcvbn guesses it
    in fewer than a million tries (a listed word with digits appended, a keyboard row, a repeat)."""

    FEWEST_GUESSES = 1_000_000
    MAX_ESTIMATED = 72  # zxcvbn's cost grows with length; a longer tail only adds guesses

    def __init__(self) -> None:
        self._listed = _listed_passwords()

    def is_common(self, password: str) -> bool:
        if password.lower() in self._listed:
            return True
        from zxcvbn import zxcvbn

        estimate = zxcvbn(password[: self.MAX_ESTIMATED])
        return bool(float(estimate["guesses"]) < self.FEWEST_GUESSES)


@cache
def _listed_passwords() -> frozenset[str]:
    """zxcvbn's password list as a set, built once per process (every container builds a policy)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])
