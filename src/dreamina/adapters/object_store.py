"""Object storage on the local filesystem (embedded profile) and on S3-compatible services (obstore)."""

from __future__ import annotations

import asyncio
import builtins
import errno
import hashlib
import hmac
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import quote

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from dreamina.ports.clock import Clock
from dreamina.ports.object_store import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SIGNED_URL_SECONDS,
    MAX_BATCH_DELETE,
    ObjectNotFound,
    validate_content_type,
    validate_expiry,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from obstore.store import S3Config

_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
_DEFAULT_CONTENT_TYPE = "application/octet-stream"


class LocalObjectStore:
    """Objects as files under ``root/objects/<key>``, content types beside them under ``root/meta/<key>``.

    Writes go to ``root/tmp`` first and are renamed into place, so readers never see a partial object.
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

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        validate_content_type(content_type)
        await asyncio.to_thread(self._write, key, (data,), content_type)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> int:
        validate_key(key)
        validate_content_type(content_type)
        temporary, handle = await asyncio.to_thread(self._open_temporary)
        written = 0
        try:
            async for chunk in chunks:
                written += await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(self._commit, handle, temporary, key, content_type)
        except BaseException:
            handle.close()
            temporary.unlink(missing_ok=True)
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

    def _open_temporary(self) -> tuple[Path, IO[bytes]]:
        temporary = self._tmp / f"{secrets.token_hex(16)}.part"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return temporary, os.fdopen(descriptor, "wb")

    def _write(self, key: str, parts: Iterable[bytes], content_type: str) -> None:
        temporary, handle = self._open_temporary()
        try:
            for part in parts:
                handle.write(part)
            self._commit(handle, temporary, key, content_type)
        except BaseException:
            handle.close()
            temporary.unlink(missing_ok=True)
            raise

    def _commit(self, handle: IO[bytes], temporary: Path, key: str, content_type: str) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        target = self._objects / key
        try:
            # content type first: a crash in between leaves an orphan type, never an untyped object
            self._write_small(self._meta / key, content_type.encode("ascii"))
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(temporary, target)
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as error:
            raise ValueError(f"object key {key!r} collides with an existing object or prefix") from error

    def _write_small(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self._tmp / f"{secrets.token_hex(16)}.meta"
        try:
            temporary.write_bytes(data)
            os.replace(temporary, path)
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


class S3ObjectStore:
    """Objects in an S3 bucket (AWS, or any S3-compatible service) through obstore.

    Streams are uploaded as multipart uploads of ``part_size`` bytes with at most ``max_concurrency`` parts in
    flight, so memory stays near ``part_size * max_concurrency``; objects smaller than one part go in a single
    PUT. Configure a lifecycle rule that aborts incomplete multipart uploads. Without explicit credentials,
    obstore's usual chain applies (``AWS_*`` environment variables, web identity, instance metadata).
    """

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        path_style: bool = True,
        *,
        part_size: int = 8 * 1024 * 1024,
        max_concurrency: int = 4,
    ) -> None:
        if part_size < 5 * 1024 * 1024:
            raise ValueError("S3 multipart parts must be at least 5 MiB")
        self.bucket = bucket
        self._part_size = part_size
        self._max_concurrency = max_concurrency
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        config: S3Config = {"region": region, "virtual_hosted_style_request": not path_style}
        if access_key_id is not None and secret_access_key is not None:
            config["access_key_id"] = access_key_id
            config["secret_access_key"] = secret_access_key
        if endpoint_url:
            config["endpoint"] = endpoint_url
        self._store = S3Store(
            bucket,
            config=config,
            client_options={"allow_http": bool(endpoint_url and endpoint_url.startswith("http://"))},
        )

    def __repr__(self) -> str:
        return f"S3ObjectStore(bucket={self.bucket!r})"

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        await obstore.put_async(self._store, key, data, attributes=_attributes(content_type), use_multipart=False)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> int:
        validate_key(key)
        attributes = _attributes(content_type)
        iterator = aiter(chunks)
        head = bytearray()
        async for chunk in iterator:
            head += chunk
            if len(head) >= self._part_size:
                break
        else:
            # the whole stream fitted in one part: a plain PUT (S3 rejects a multipart upload with no parts)
            await obstore.put_async(self._store, key, bytes(head), attributes=attributes, use_multipart=False)
            return len(head)

        written = len(head)

        async def body() -> AsyncIterator[bytes]:
            nonlocal written
            yield bytes(head)
            head.clear()
            async for chunk in iterator:
                written += len(chunk)
                yield chunk

        await obstore.put_async(
            self._store,
            key,
            body(),
            attributes=attributes,
            use_multipart=True,
            chunk_size=self._part_size,
            max_concurrency=self._max_concurrency,
        )
        return written

    async def get(self, key: str) -> bytes:
        validate_key(key)
        try:
            result = await obstore.get_async(self._store, key)
            return bytes(await result.bytes_async())
        except (FileNotFoundError, NotFoundError):
            raise ObjectNotFound(key) from None

    async def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        validate_key(key)
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        try:
            result = await obstore.get_async(self._store, key)
        except (FileNotFoundError, NotFoundError):
            raise ObjectNotFound(key) from None

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in result.stream(min_chunk_size=chunk_size):
                yield bytes(chunk)

        return chunks()

    async def delete(self, key: str) -> bool:
        # S3 answers a delete of a missing key with success, so ask first to report whether one was there
        if not await self.exists(key):
            return False
        await obstore.delete_async(self._store, key)
        return True

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list(validate_prefix(prefix, allow_empty=False))
        await self.delete_many(keys)
        return len(keys)

    async def delete_many(self, keys: builtins.list[str]) -> None:
        for key in keys:
            validate_key(key)
        for start in range(0, len(keys), MAX_BATCH_DELETE):  # one DeleteObjects request per 1000 keys
            await obstore.delete_async(self._store, keys[start : start + MAX_BATCH_DELETE])

    async def list(self, prefix: str) -> builtins.list[str]:
        normalised = validate_prefix(prefix, allow_empty=True)
        keys: builtins.list[str] = []
        async for batch in obstore.list(self._store, normalised or None, chunk_size=1000):
            keys.extend(meta["path"] for meta in batch)
        return sorted(keys)

    async def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            await obstore.head_async(self._store, key)
        except (FileNotFoundError, NotFoundError):
            return False
        return True

    async def signed_url(self, key: str, expires_in_seconds: int = DEFAULT_SIGNED_URL_SECONDS) -> str:
        validate_key(key)
        lifetime = timedelta(seconds=validate_expiry(expires_in_seconds))
        return await obstore.sign_async(self._store, "GET", key, lifetime)


def _attributes(content_type: str) -> dict[str, str]:
    return {"Content-Type": validate_content_type(content_type)}
