"""Export archives as streamed ZIP files (stream-zip), written into the object store with bounded memory.

Holders push records and file chunks into the sink; a bounded queue hands them to ``async_stream_zip`` one member
at a time, whose output goes straight to ``ObjectStore.put_stream`` (a multipart upload on S3). At no point is a
whole file, a whole category or the archive held in memory. Members are deflate-compressed at level 0 (stored
blocks): uploads and outputs are already-compressed images and videos, and level 0 needs no size or CRC up front.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from stream_zip import ZIP_64, async_stream_zip

from dreamina.adapters.logs import get_logger
from dreamina.ports.object_store import ObjectStore

_DONE = object()
log = get_logger("dreamina.export")


class ArchiveAborted(RuntimeError):
    """A holder failed while the archive was being written; nothing was stored."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_MODE = 0o600


class _QueueSink:
    """:class:`~dreamina.ports.data_rights.ExportSink` that feeds members to the ZIP writer one by one."""

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self._queue = queue
        self.index: list[tuple[str, str]] = []
        self._names: set[str] = set()

    async def _member(self, name: str, description: str, chunks: AsyncIterable[bytes]) -> None:
        if name in self._names:
            raise ValueError(f"two holders wrote {name}")
        self._names.add(name)
        self.index.append((name, description))
        finished = asyncio.Event()

        async def tracked() -> AsyncIterator[bytes]:
            try:
                async for chunk in chunks:
                    if chunk:
                        yield chunk
            finally:
                finished.set()

        await self._queue.put((name, datetime.now(UTC), _MODE, ZIP_64, tracked()))
        await finished.wait()

    async def write_records(
        self, category: str, description: str, records: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]]
    ) -> None:
        await self._member(f"{category}.json", description, _json_array(records))

    async def write_file(self, path: str, description: str, chunks: AsyncIterable[bytes]) -> None:
        await self._member(f"files/{path}", description, chunks)


async def _json_array(
    records: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
) -> AsyncIterator[bytes]:
    yield b"[\n"
    first = True
    if isinstance(records, AsyncIterable):
        async for record in records:
            yield (b"" if first else b",\n") + json.dumps(record, ensure_ascii=False, default=str).encode()
            first = False
    else:
        for record in records:
            yield (b"" if first else b",\n") + json.dumps(record, ensure_ascii=False, default=str).encode()
            first = False
    yield b"\n]\n"


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class ZipExportArchive:
    """:class:`~dreamina.ports.data_rights.ExportArchive` over an object store."""

    def __init__(self, store: ObjectStore, *, chunk_size: int = 256 * 1024) -> None:
        self._store = store
        self._chunk_size = chunk_size

    async def build(self, key: str, readme: str, fill: Callable[[Any], Awaitable[None]]) -> int:
        # an earlier attempt killed mid-upload left parts holding the subject's data under this very key
        stale = await self._store.abort_incomplete(key)
        if stale:
            log.info("export_stale_uploads_aborted", uploads=stale)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
        sink = _QueueSink(queue)

        async def produce() -> None:
            try:
                await fill(sink)
                listing = "".join(f"- {name}: {description}\n" for name, description in sink.index)
                text = readme + listing + "- README.txt: this file\n"
                await queue.put(("README.txt", datetime.now(UTC), _MODE, ZIP_64, _one(text.encode())))
            except BaseException as error:
                await queue.put(_Failed(error))  # the upload must fail too: no truncated archive is ever stored
                raise
            await queue.put(_DONE)

        async def members() -> AsyncIterator[Any]:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failed):
                    raise ArchiveAborted("a holder failed while exporting") from item.error
                yield item

        producer = asyncio.create_task(produce())
        try:
            stream = async_stream_zip(
                members(),
                chunk_size=self._chunk_size,
                get_compressobj=lambda: zlib.compressobj(level=0, wbits=-zlib.MAX_WBITS),
            )
            size = await self._store.put_stream(key, stream, "application/zip")
        except BaseException:
            producer.cancel()
            if not producer.cancelled() and producer.done() and producer.exception() is not None:
                raise producer.exception() from None  # type: ignore[misc]
            raise
        await producer
        return size
