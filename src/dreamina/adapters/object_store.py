"""Object storage on the local filesystem (embedded profile); S3 lives in ``s3_object_store``."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import quote

from dreamina.ports.clock import Clock
from dreamina.ports.object_store import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SIGNED_URL_SECONDS,
    ObjectNotFound,
    validate_content_type,
    validate_expiry,
    validate_key,
    validate_prefix,
)

_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
PARTIAL_SUFFIX = ".part"
OPEN_ATTEMPTS = 50
STALE_PARTIAL_SECONDS = 24 * 3600  # no write lasts a day: a partial file that old was left by a killed writer
_DEFAULT_CONTENT_TYPE = "application/octet-stream"
_Placed = TypeVar("_Placed")


def _in_folder(folder: Path, place: Callable[[], _Placed]) -> _Placed:
    """Make ``folder`` (and its parents) and run ``place``, which puts a file in it.

    A writer that finishes prunes the folders it leaves empty, so a folder on our path can vanish at any moment: after
    ``mkdir`` (``place`` then fails with ``FileNotFoundError``) or inside it (``mkdir`` saw the folder, the prune
    removed it, and ``exist_ok`` then found nothing: ``FileExistsError``). Either way we make the folder again. A file
    that really sits where a folder must go fails every attempt, and its last error is raised.
    """
    last: OSError | None = None
    for _ in range(OPEN_ATTEMPTS):
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            return place()
        except (FileNotFoundError, FileExistsError) as error:
            last = error
    assert last is not None
    raise last


class LocalObjectStore:
    """Objects as files under ``root/objects/<key>``, content types beside them under ``root/meta/<key>``.

    Writes go to ``root/tmp/<key>/<random>.part`` first and are renamed into place, so readers never see a partial
    object; a partial file a killed writer left is an incomplete upload of ``<key>`` (``list_incomplete``), and any
    older than a day is removed when the store opens (as the S3 lifecycle rule aborts incomplete uploads).
    Signed URLs are ``base_url/<key>?expires=<unix>&signature=<hex HMAC-SHA256>``; the HTTP layer checks
    them with :meth:`verify_signed` and serves the object itself. Unlike S3, a key cannot be both an object
    and a prefix of another (``a`` and ``a/b``): that raises ``ValueError``.
    """

    def __init__(
        self,
        root: Path,
        url_signing_key: bytes,
        base_url: str,
        clock: Clock | None = None,
    ) -> None:
        if len(url_signing_key) < 32:
            raise ValueError("url_signing_key must be at least 32 bytes")
        self.root = Path(root)
        self._objects = self.root / "objects"
        self._meta = self.root / "meta"
        self._tmp = self.root / "tmp"
        self._signing_key = url_signing_key
        self._base_url = base_url.rstrip("/")
        self._now = clock.now if clock else lambda: datetime.now(UTC)
        for directory in (self.root, self._objects, self._meta, self._tmp):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._remove_partials(self._tmp, older_than=time.time() - STALE_PARTIAL_SECONDS)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        validate_content_type(content_type)
        await asyncio.to_thread(self._write, key, (data,), content_type)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> int:
        validate_key(key)
        validate_content_type(content_type)
        opening = asyncio.ensure_future(asyncio.to_thread(self._open_temporary, key))
        try:
            temporary, handle = await asyncio.shield(opening)
        except BaseException:  # cancelled while the thread makes the partial file: remove it once it exists
            with contextlib.suppress(Exception):
                temporary, handle = await opening
                handle.close()
                await asyncio.to_thread(self._discard, temporary, key)
            raise
        written = 0
        try:
            async for chunk in chunks:
                written += await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(self._commit, handle, temporary, key, content_type)
        except BaseException:
            handle.close()
            self._discard(temporary, key)
            raise
        return written

    async def get(self, key: str) -> bytes:
        path = self._object_path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except _MISSING:
            raise ObjectNotFound(key) from None

    async def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        path = self._object_path(key)
        if not await asyncio.to_thread(path.is_file):
            raise ObjectNotFound(key)
        return self._read_chunks(key, path, chunk_size)

    async def delete(self, key: str) -> bool:
        validate_key(key)
        return await asyncio.to_thread(self._remove, key)

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list(validate_prefix(prefix, allow_empty=False))
        removed = await asyncio.to_thread(lambda: sum(self._remove(key) for key in keys))
        return int(removed)

    async def delete_many(self, keys: builtins.list[str]) -> None:
        for key in keys:
            validate_key(key)
        await asyncio.to_thread(lambda: [self._remove(key) for key in keys])

    async def list(self, prefix: str) -> builtins.list[str]:
        normalised = validate_prefix(prefix, allow_empty=True)
        return await asyncio.to_thread(self._walk, normalised)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._object_path(key).is_file)

    async def list_incomplete(self, prefix: str) -> builtins.list[str]:
        normalised = validate_prefix(prefix, allow_empty=True)
        return await asyncio.to_thread(self._partials, normalised)

    async def abort_incomplete(self, prefix: str) -> int:
        normalised = validate_prefix(prefix, allow_empty=False)

        def abort() -> int:
            removed = self._remove_partials(self._tmp / normalised)
            self._prune(self._tmp, normalised)  # the folders above, if that left them empty
            return removed

        return await asyncio.to_thread(abort)

    async def signed_url(self, key: str, expires_in_seconds: int = DEFAULT_SIGNED_URL_SECONDS) -> str:
        validate_key(key)
        expires = int(self._now().timestamp()) + validate_expiry(expires_in_seconds)
        return f"{self._base_url}/{quote(key)}?expires={expires}&signature={self._signature(key, expires)}"

    def verify_signed(self, key: str, expires: int, signature: str, now: datetime) -> bool:
        """True if :meth:`signed_url` made ``signature`` for ``key`` and ``expires`` is after ``now``."""
        try:
            validate_key(key)
        except ValueError:
            return False
        valid = hmac.compare_digest(signature.encode("ascii", "replace"), self._signature(key, expires).encode())
        return valid and now.timestamp() < expires

    async def content_type(self, key: str) -> str:
        """The content type the object was stored with, for serving it; raises :class:`ObjectNotFound`."""
        path = self._object_path(key)
        if not await asyncio.to_thread(path.is_file):
            raise ObjectNotFound(key)
        try:
            return (await asyncio.to_thread((self._meta / key).read_text, "ascii")).strip()
        except _MISSING:
            return _DEFAULT_CONTENT_TYPE

    def _signature(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def _object_path(self, key: str) -> Path:
        return self._objects / validate_key(key)

    def _open_temporary(self, key: str) -> tuple[Path, IO[bytes]]:
        folder = self._tmp / key

        def open_partial() -> tuple[Path, IO[bytes]]:
            temporary = folder / f"{secrets.token_hex(16)}{PARTIAL_SUFFIX}"
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            return temporary, os.fdopen(descriptor, "wb")

        return _in_folder(folder, open_partial)

    def _discard(self, temporary: Path, key: str) -> None:
        temporary.unlink(missing_ok=True)
        self._prune(self._tmp, f"{key}/{temporary.name}")

    def _write(self, key: str, parts: Iterable[bytes], content_type: str) -> None:
        temporary, handle = self._open_temporary(key)
        try:
            for part in parts:
                handle.write(part)
            self._commit(handle, temporary, key, content_type)
        except BaseException:
            handle.close()
            self._discard(temporary, key)
            raise

    def _partials(self, prefix: str) -> builtins.list[str]:
        """The key of each partial file at or under ``prefix`` (a file's folder below ``tmp`` is its key)."""
        keys: builtins.list[str] = []
        for directory, _, files in os.walk(self._tmp / prefix if prefix else self._tmp):
            key = Path(directory).relative_to(self._tmp).as_posix()
            if key != ".":  # partial files of the old flat layout name no key; they go after a day
                keys.extend(key for name in files if name.endswith(PARTIAL_SUFFIX))
        return sorted(keys)

    def _remove_partials(self, folder: Path, older_than: float | None = None) -> int:
        """Remove the partial files under ``folder`` (those last written before ``older_than``, if given)."""
        removed = 0
        for directory, _, files in os.walk(folder, topdown=False):
            for name in files:
                path = Path(directory) / name
                with contextlib.suppress(FileNotFoundError):
                    if name.endswith(PARTIAL_SUFFIX) and (older_than is None or path.stat().st_mtime < older_than):
                        path.unlink()
                        removed += 1
            if Path(directory) != self._tmp:
                with contextlib.suppress(OSError):
                    os.rmdir(directory)  # only if empty
        return removed

    def _commit(self, handle: IO[bytes], temporary: Path, key: str, content_type: str) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        target = self._objects / key
        try:
            # content type first: a crash in between leaves an orphan type, never an untyped object
            self._write_small(self._meta / key, content_type.encode("ascii"))
            _in_folder(target.parent, lambda: os.replace(temporary, target))
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as error:
            raise ValueError(f"object key {key!r} collides with an existing object or prefix") from error
        self._prune(self._tmp, f"{key}/{temporary.name}")

    def _write_small(self, path: Path, data: bytes) -> None:
        temporary = self._tmp / f"{secrets.token_hex(16)}.meta"
        try:
            temporary.write_bytes(data)
            _in_folder(path.parent, lambda: os.replace(temporary, path))
        finally:
            temporary.unlink(missing_ok=True)

    def _remove(self, key: str) -> bool:
        try:
            (self._objects / key).unlink()
        except _MISSING:
            return False
        (self._meta / key).unlink(missing_ok=True)
        self._prune(self._objects, key)
        self._prune(self._meta, key)
        return True

    @staticmethod
    def _prune(base: Path, key: str) -> None:
        """Remove directories left empty by a delete, up to ``base``."""
        directory = (base / key).parent
        while directory != base:
            try:
                directory.rmdir()
            except OSError as error:
                if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    return
                raise
            directory = directory.parent

    def _walk(self, prefix: str) -> builtins.list[str]:
        start = self._objects / prefix if prefix else self._objects
        keys: builtins.list[str] = []
        for directory, _, files in os.walk(start):
            relative = Path(directory).relative_to(self._objects)
            for name in files:
                path = Path(directory) / name
                if path.is_file() and not path.is_symlink():
                    keys.append((relative / name).as_posix())
        return sorted(keys)

    async def _read_chunks(self, key: str, path: Path, chunk_size: int) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except _MISSING:
            raise ObjectNotFound(key) from None  # deleted between the existence check and the first read
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()
