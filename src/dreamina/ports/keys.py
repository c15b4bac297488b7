"""Per-subject data keys (envelope encryption) and the master key that wraps them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(slots=True)
class SubjectKey:
    """A subject's data key as stored: wrapped by the master key. ``wrapped_key`` is None once destroyed."""

    subject_id: UUID
    wrapped_key: bytes | None
    created_at: datetime
    destroyed_at: datetime | None = None


class KeyVault(Protocol):
    """Holds the master key. Data keys never leave it unwrapped except to the process that uses them."""

    def generate_data_key(self) -> tuple[bytes, bytes]:
        """A fresh 256-bit data key: ``(plaintext_key, wrapped_key)``."""
        ...

    def unwrap(self, wrapped_key: bytes) -> bytes:
        """The plaintext of a wrapped data key; raises ``ValueError`` if it was not wrapped by this vault."""
        ...

    def blind_index(self, purpose: str, value: str) -> str:
        """A keyed, deterministic hash of ``value`` for look-ups (e.g. email at sign-in) without the plaintext."""
        ...


class FieldCipher(Protocol):
    """Authenticated encryption of single values with a data key; ``context`` binds a value to its place."""

    def seal(self, key: bytes, plaintext: bytes, context: str) -> bytes: ...

    def open(self, key: bytes, sealed: bytes, context: str) -> bytes:
        """Decrypt; raises ``ValueError`` on a wrong key, a wrong context or tampering."""
        ...

    def opener(self, key: bytes) -> Callable[[bytes, str], bytes]:
        """``open`` under ``key`` for many values, ``(sealed, context) -> plaintext``: what the cipher makes of a
        key (an AEAD context) is made once for them all, not once a value. It raises as ``open`` does. Holds the
        key: keep it no longer than the key itself may be kept."""
        ...


class SubjectKeyRepository(Protocol):
    async def add(self, key: SubjectKey) -> None: ...

    async def get(self, subject_id: UUID) -> SubjectKey | None: ...

    async def destroy(self, subject_id: UUID, at: datetime) -> bool:
        """Overwrite the wrapped key with nothing and stamp ``destroyed_at``; True if a live key was destroyed."""
        ...

    async def delete(self, subject_id: UUID) -> bool:
        """Erasure, after :meth:`destroy`: remove the (keyless) row itself; True if it existed."""
        ...
