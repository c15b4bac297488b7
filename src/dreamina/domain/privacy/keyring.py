"""Envelope encryption of a subject's direct identifiers, and crypto-shredding (guarantee G12, G6)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.ports.clock import Clock
from dreamina.ports.keys import FieldCipher, KeyVault, SubjectKey, SubjectKeyRepository


class _Held:
    """A data key a keyring holds, and the cipher's opener for it once one is needed: both go when the key goes."""

    __slots__ = ("key", "opener")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.opener: Callable[[bytes, str], bytes] | None = None


class SubjectKeyring:
    """Seals and opens one subject's values with their own data key, wrapped by the vault's master key.

    Destroying a subject's key makes every value sealed with it unreadable forever, wherever copies live
    (backups, replicas): that is how erasure reaches data we cannot enumerate.
    Lives for one unit of work: unwrapped keys are cached only for its duration.
    """

    def __init__(self, keys: SubjectKeyRepository, vault: KeyVault, cipher: FieldCipher, clock: Clock) -> None:
        self._keys = keys
        self._vault = vault
        self._cipher = cipher
        self._clock = clock
        self._cache: dict[UUID, _Held] = {}

    async def create(self, subject_id: UUID) -> None:
        plaintext, wrapped = self._vault.generate_data_key()
        await self._keys.add(SubjectKey(subject_id=subject_id, wrapped_key=wrapped, created_at=self._clock.now()))
        self._cache[subject_id] = _Held(plaintext)

    async def _held(self, subject_id: UUID) -> _Held:
        held = self._cache.get(subject_id)
        if held is not None:
            return held
        stored = await self._keys.get(subject_id)
        if stored is None or stored.wrapped_key is None:
            raise KeyDestroyed("the subject's data key no longer exists")
        held = self._cache[subject_id] = _Held(self._vault.unwrap(stored.wrapped_key))
        return held

    async def seal(self, subject_id: UUID, field: str, value: str) -> bytes:
        key = (await self._held(subject_id)).key
        return self._cipher.seal(key, value.encode("utf-8"), f"{subject_id}/{field}")

    async def _opener(self, subject_id: UUID) -> Callable[[bytes, str], bytes]:
        held = await self._held(subject_id)
        if held.opener is None:
            held.opener = self._cipher.opener(held.key)
        return held.opener

    async def open(self, subject_id: UUID, field: str, sealed: bytes) -> str:
        return (await self._opener(subject_id))(sealed, f"{subject_id}/{field}").decode("utf-8")

    async def opener(self, subject_id: UUID) -> Callable[[str, bytes], str]:
        """``open`` for one subject without a trip through the event loop per value: the data key is read (or found
        in this keyring's cache) once, and the returned function opens ``(field, sealed)`` with it, through one
        cipher context for the key. For many values of one subject (a page of generations opens twenty prompts)."""
        open_sealed = await self._opener(subject_id)

        def open_value(field: str, sealed: bytes) -> str:
            return open_sealed(sealed, f"{subject_id}/{field}").decode("utf-8")

        return open_value

    async def destroy(self, subject_id: UUID) -> bool:
        """Crypto-shred the subject: their data key is gone, so are all values sealed with it."""
        self._cache.pop(subject_id, None)
        return await self._keys.destroy(subject_id, self._clock.now())


class Keyrings:
    """Makes the keyring of one unit of work: the vault, cipher and clock every keyring needs, given once."""

    def __init__(self, vault: KeyVault, cipher: FieldCipher, clock: Clock) -> None:
        self.vault = vault
        self.cipher = cipher
        self.clock = clock

    def __call__(self, keys: SubjectKeyRepository) -> SubjectKeyring:
        """The keyring over ``keys`` (a unit of work's ``subject_keys``), for that unit of work only."""
        return SubjectKeyring(keys, self.vault, self.cipher, self.clock)
