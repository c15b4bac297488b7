"""Password hashing and attempt counting for throttles."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """True if ``password`` matches; never raises for a mismatch."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class AttemptCounter(Protocol):
    """Counts events per key in a fixed window (failed logins, sign-ups). Keys must hold no personal data."""

    async def hit(self, key: str, window_seconds: int) -> int:
        """Count one event; returns the count in the current window."""
        ...

    async def count(self, key: str) -> int: ...

    async def retry_after(self, key: str) -> int:
        """Seconds until the current window of ``key`` ends (0 if none)."""
        ...

    async def reset(self, key: str) -> None: ...


class CommonPasswords(Protocol):
    """A maintained list of common and breached passwords, shipped with a package (no network at run time)."""

    def is_common(self, password: str) -> bool:
        """True if ``password`` (compared case-insensitively) is on the list."""
        ...
