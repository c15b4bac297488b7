"""In-memory fake of :class:`~dreamina.ports.object_store.ObjectStore`."""

from __future__ import annotations

import asyncio
import builtins
import itertools
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

from dreamina.ports.object_store import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SIGNED_URL_SECONDS,
    ObjectNotFound,
    is_at_or_under,
    is_under,
    validate_content_type,
    validate_expiry,
    validate_key,
    validate_prefix,
)


@dataclass(frozen=True, slots=True)
class StoredObject:
    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class UnfinishedUpload:
    key: str
    data: bytearray  # what the writer sent so far


class InMemoryObjectStore:
    """Objects in a dict; ``signed_urls`` records every URL handed out as ``(key, expires_in_seconds)``.

    ``uploads`` holds each :meth:`put_stream` under way by an id, like an S3 multipart upload: it ends with the
    stream, or is aborted when the stream fails or is cancelled; a writer that dies otherwise (a ``BaseException``
    that stands for the process being killed) leaves it behind, as a killed worker leaves its upload on S3.
    """

    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}
        self.signed_urls: builtins.list[tuple[str, int]] = []
        self.uploads: dict[int, UnfinishedUpload] = {}
        self._upload_ids = itertools.count(1)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[validate_key(key)] = StoredObject(bytes(data), validate_content_type(content_type))

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> int:
        validate_key(key)
        validate_content_type(content_type)
        upload_id = next(self._upload_ids)
        upload = self.uploads[upload_id] = UnfinishedUpload(key, bytearray())
        try:
            async for chunk in chunks:
                upload.data.extend(chunk)
        except (Exception, asyncio.CancelledError):
            self.uploads.pop(upload_id, None)  # aborted, as the real stores abort theirs
            raise
        if self.uploads.pop(upload_id, None) is None:
            raise RuntimeError(f"the upload of {key} was aborted while it was written")
        self.objects[key] = StoredObject(bytes(upload.data), content_type)
        return len(upload.data)

    async def get(self, key: str) -> bytes:
        return self._stored(key).data

    async def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        data = self._stored(key).data
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        return _chunks(data, chunk_size)

    async def delete(self, key: str) -> bool:
        return self.objects.pop(validate_key(key), None) is not None

    async def delete_prefix(self, prefix: str) -> int:
        doomed = await self.list(validate_prefix(prefix, allow_empty=False))
        for key in doomed:
            del self.objects[key]
        return len(doomed)

    async def delete_many(self, keys: builtins.list[str]) -> None:
        for key in keys:
            validate_key(key)
        for key in keys:
            self.objects.pop(key, None)

    async def list(self, prefix: str) -> builtins.list[str]:
        normalised = validate_prefix(prefix, allow_empty=True)
        return sorted(key for key in self.objects if is_under(key, normalised))

    async def exists(self, key: str) -> bool:
        return validate_key(key) in self.objects

    def abandon_upload(self, key: str, data: bytes = b"") -> None:
        """Stand for a writer killed while streaming ``data`` into ``key``: its upload stays unfinished (for tests)."""
        self.uploads[next(self._upload_ids)] = UnfinishedUpload(validate_key(key), bytearray(data))

    async def list_incomplete(self, prefix: str) -> builtins.list[str]:
        normalised = validate_prefix(prefix, allow_empty=True)
        return sorted(u.key for u in self.uploads.values() if is_at_or_under(u.key, normalised))

    async def abort_incomplete(self, prefix: str) -> int:
        normalised = validate_prefix(prefix, allow_empty=False)
        doomed = [upload_id for upload_id, u in self.uploads.items() if is_at_or_under(u.key, normalised)]
        for upload_id in doomed:
            del self.uploads[upload_id]
        return len(doomed)

    async def signed_url(self, key: str, expires_in_seconds: int = DEFAULT_SIGNED_URL_SECONDS) -> str:
        validate_key(key)
        validate_expiry(expires_in_seconds)
        self.signed_urls.append((key, expires_in_seconds))
        return f"memory://objects/{quote(key)}?expires_in={expires_in_seconds}"

    def content_type(self, key: str) -> str:
        """The content type the object was stored with (for tests)."""
        return self._stored(key).content_type

    def _stored(self, key: str) -> StoredObject:
        try:
            return self.objects[validate_key(key)]
        except KeyError:
            raise ObjectNotFound(key) from None


async def _chunks(data: bytes, chunk_size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]
