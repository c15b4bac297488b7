"""Envelope encryption: an AES-GCM field cipher and key vaults that wrap data keys under a master key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_FIELD_VERSION = b"\x01"
_WRAP_VERSION = b"\x01"
_KEK_ID_BYTES = 8
_WRAP_AAD = b"dreamina/data-key"


class AesGcmCipher:
    """Seals single values with AES-256-GCM: ``version (1) | nonce (12) | ciphertext + tag``.

    The version byte and ``context`` are authenticated as associated data, so a value copied to another
    column or row (another context) no longer opens.
    """

    def seal(self, key: bytes, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return _FIELD_VERSION + nonce + _aead(key).encrypt(nonce, plaintext, _field_aad(context))

    def open(self, key: bytes, sealed: bytes, context: str) -> bytes:
        return self.opener(key)(sealed, context)

    def opener(self, key: bytes) -> Callable[[bytes, str], bytes]:
        """One AES-GCM context for every value opened under ``key`` (making one cost 0.9 us of the 2.5 an open
        took; a page of twenty generations opens twenty prompts)."""
        aead = _aead(key)

        def open_value(sealed: bytes, context: str) -> bytes:
            if len(sealed) < 1 + NONCE_BYTES + TAG_BYTES:
                raise ValueError("sealed value is truncated")
            if sealed[:1] != _FIELD_VERSION:
                raise ValueError("sealed value has an unknown format version")
            nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
            try:
                return aead.decrypt(nonce, ciphertext, _field_aad(context))
            except InvalidTag:
                raise ValueError("sealed value does not open: wrong key, wrong context or tampered") from None

        return open_value


class MasterKeyVault:
    """A key vault around one 256-bit master key held in process memory.

    Data keys are wrapped with AES-256-GCM under a key-encryption key derived from the master by
    HKDF-SHA256; a wrapped key is ``version (1) | KEK id (8) | nonce (12) | ciphertext + tag`` (69 bytes).
    Blind indexes use a second derived key, so neither derived key reveals the other or the master.
    """

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"master key must be {KEY_BYTES} bytes, got {len(master_key)}")
        kek = _derive(master_key, b"dreamina/kek")
        # identifies the master key inside each wrapped key, so a later vault holding several can pick one
        self._kek_id = _derive(master_key, b"dreamina/kek-id")[:_KEK_ID_BYTES]
        self._kek = AESGCM(kek)
        self._index_key = _derive(master_key, b"dreamina/blind-index")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kek_id={self._kek_id.hex()})"

    def generate_data_key(self) -> tuple[bytes, bytes]:
        data_key = secrets.token_bytes(KEY_BYTES)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = self._kek.encrypt(nonce, data_key, _WRAP_VERSION + self._kek_id + _WRAP_AAD)
        return data_key, _WRAP_VERSION + self._kek_id + nonce + wrapped

    def unwrap(self, wrapped_key: bytes) -> bytes:
        header = 1 + _KEK_ID_BYTES
        if len(wrapped_key) != header + NONCE_BYTES + KEY_BYTES + TAG_BYTES:
            raise ValueError("wrapped key has the wrong length")
        if wrapped_key[:1] != _WRAP_VERSION:
            raise ValueError("wrapped key has an unknown format version")
        if not hmac.compare_digest(wrapped_key[1:header], self._kek_id):
            raise ValueError("wrapped key was not wrapped by this vault's master key")
        nonce, ciphertext = wrapped_key[header : header + NONCE_BYTES], wrapped_key[header + NONCE_BYTES :]
        try:
            return self._kek.decrypt(nonce, ciphertext, wrapped_key[:header] + _WRAP_AAD)
        except InvalidTag:
            raise ValueError("wrapped key does not unwrap: tampered or from another vault") from None

    def blind_index(self, purpose: str, value: str) -> str:
        """Hex HMAC-SHA256 of ``purpose NUL value``; normalise ``value`` (case-fold emails) before calling."""
        if "\x00" in purpose:
            raise ValueError("blind index purpose must not contain NUL")
        message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()


class LocalFileKeyVault(MasterKeyVault):
    """A vault whose master key lives in a 0600 file on local disk (embedded profile).

    The file is created with 32 random bytes on first use and reused afterwards; creation is atomic and never
    replaces a file another process created first. A file of any other size is refused.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        super().__init__(_load_or_create_key_file(self.path))


class EnvKeyVault(MasterKeyVault):
    """A vault whose master key comes from configuration (production): base64 of 32 bytes."""

    def __init__(self, master_key_b64: str) -> None:
        try:
            master_key = base64.b64decode(master_key_b64.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("master key is not valid base64") from None
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"master key must decode to {KEY_BYTES} bytes, got {len(master_key)}")
        super().__init__(master_key)


class InMemoryKeyVault(MasterKeyVault):
    """A vault with a random master key per instance; everything it wrapped is lost with it (tests)."""

    def __init__(self) -> None:
        super().__init__(secrets.token_bytes(KEY_BYTES))


def _aead(key: bytes) -> AESGCM:
    if len(key) != KEY_BYTES:
        raise ValueError(f"data key must be {KEY_BYTES} bytes, got {len(key)}")
    return AESGCM(key)


def _field_aad(context: str) -> bytes:
    return _FIELD_VERSION + context.encode("utf-8")


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master_key)


def _load_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        create_private_file(path, secrets.token_bytes(KEY_BYTES))
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"master key file {path} holds {len(key)} bytes, expected {KEY_BYTES}; refusing to use or replace"
            " it (restore the right file: replacing it makes every wrapped key unreadable)"
        )
    return key


def create_private_file(path: Path, content: bytes) -> None:
    """Write ``content`` to a new owner-only (0600) file at ``path``, atomically; a file another process created
    first is kept (the caller then reads that one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            # link, not rename: it fails if another process won the race, and then we use its key
            os.link(temporary, path)
        except FileExistsError:
            pass
        else:
            _fsync_directory(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
