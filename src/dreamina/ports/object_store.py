"""Blob storage for uploads, generated images and videos, and data exports, addressed by relative keys."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_KEY_BYTES = 1024  # S3's limit; every store enforces it so keys that work on one work on all
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600  # S3's limit for presigned URLs
DEFAULT_SIGNED_URL_SECONDS = 15 * 60  # nothing is public: download links expire after 15 minutes by default
MAX_BATCH_DELETE = 1000  # S3 DeleteObjects takes at most 1000 keys per request


class ObjectNotFound(LookupError):
    """No object is stored under ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def validate_key(key: str) -> str:
    """``key`` if it is a safe relative path (``a/b/c``); raises ``ValueError`` otherwise.

    Rejected: empty keys, a leading ``/``, empty segments (``a//b``, ``a/``), ``.`` segments, any ``..``,
    NUL and other control characters, backslashes, and keys over 1024 bytes of UTF-8.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("object key must be a non-empty string")
    if key.startswith("/"):
        raise ValueError(f"object key must be relative, got {key!r}")
    if ".." in key:
        raise ValueError(f"object key must not contain '..', got {key!r}")
    if "\\" in key or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise ValueError(f"object key must not contain control characters or backslashes, got {key!r}")
    if any(segment in ("", ".") for segment in key.split("/")):
        raise ValueError(f"object key must not have empty or '.' segments, got {key!r}")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValueError(f"object key must be at most {MAX_KEY_BYTES} bytes of UTF-8")
    return key


def validate_prefix(prefix: str, *, allow_empty: bool) -> str:
    """``prefix`` minus a trailing ``/``; it names whole segments: ``user/12`` never matches ``user/123``."""
    trimmed = prefix[:-1] if prefix.endswith("/") else prefix
    if not trimmed:
        if allow_empty:
            return ""
        raise ValueError("an empty prefix would address every object; name one explicitly")
    return validate_key(trimmed)


def validate_expiry(expires_in_seconds: int) -> int:
    """``expires_in_seconds`` if it lies in 1..7 days; raises ``ValueError`` otherwise."""
    if not 1 <= expires_in_seconds <= MAX_SIGNED_URL_SECONDS:
        raise ValueError(f"signed URL lifetime must be 1..{MAX_SIGNED_URL_SECONDS} seconds")
    return expires_in_seconds


def validate_content_type(content_type: str) -> str:
    """``content_type`` if it is a printable ASCII media type (it goes into HTTP headers); else ValueError."""
    if not content_type or not all(0x20 <= ord(ch) < 0x7F for ch in content_type) or "/" not in content_type:
        raise ValueError(f"content type must be a printable ASCII media type, got {content_type!r}")
    return content_type


def is_under(key: str, prefix: str) -> bool:
    """True if ``key`` lies under the (validated, slash-less) ``prefix``; ``""`` contains every key."""
    return not prefix or key.startswith(prefix + "/")


def is_at_or_under(key: str, prefix: str) -> bool:
    """True if ``key`` is the (validated, slash-less) ``prefix`` itself or lies under it."""
    return key == prefix or is_under(key, prefix)


class ObjectStore(Protocol):
    """Stores opaque bytes under relative keys (``subjects/<id>/uploads/<id>.png``).

    Keys are checked with :func:`validate_key` (``ValueError`` on a bad key). Prefixes name whole segments:
    ``list("a/b")`` returns keys under ``a/b/``, never ``a/bc`` and never ``a/b`` itself.
    """

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any object there; readers never see a partial object."""
        ...

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> int:
        """Store the concatenation of ``chunks`` with bounded memory; returns the number of bytes written."""
        ...

    async def get(self, key: str) -> bytes:
        """The whole object; raises :class:`ObjectNotFound`."""
        ...

    async def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """An iterator over the object's bytes; awaiting it raises :class:`ObjectNotFound` before any data.

        ``chunk_size`` is a hint: chunks are non-empty and concatenate to the object.
        """
        ...

    async def delete(self, key: str) -> bool:
        """Remove the object; True if one was there."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix`` (which must not be empty); returns how many were removed."""
        ...

    async def delete_many(self, keys: builtins.list[str]) -> None:
        """Remove every listed object in batches of at most 1000 (missing keys are not an error); all keys are
        validated before anything is removed."""
        ...

    async def list(self, prefix: str) -> builtins.list[str]:
        """Keys under ``prefix`` (``""`` for all), sorted."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def list_incomplete(self, prefix: str) -> builtins.list[str]:
        """Keys of unfinished uploads at or under ``prefix`` (``""`` for all), one entry per upload, sorted.

        An upload whose writer died (a worker killed during :meth:`put_stream`: an S3 multipart upload, a partial
        file) is invisible to :meth:`list` and :meth:`get` yet keeps the bytes written so far. ``prefix`` names whole
        segments and may be a whole key (that key's own uploads).
        """
        ...

    async def abort_incomplete(self, prefix: str) -> int:
        """Abort every unfinished upload at or under ``prefix`` (not empty; may be a whole key) and free what it
        stored; returns how many were aborted. Idempotent. A live writer's upload is aborted too (its
        :meth:`put_stream` then fails), so call it where no writer may run: an export holding its job's lease, an
        erasure."""
        ...

    async def signed_url(self, key: str, expires_in_seconds: int = DEFAULT_SIGNED_URL_SECONDS) -> str:
        """A URL that lets its holder GET the object until it expires (1 s to 7 days, default 15 minutes),
        without credentials."""
        ...
