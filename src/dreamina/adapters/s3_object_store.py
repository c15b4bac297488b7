"""Objects in S3 buckets (AWS or any S3-compatible service): obstore for the objects, aiobotocore for what obstore
cannot do (incomplete multipart uploads, the bucket's lifecycle rules)."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import obstore
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from dreamina.adapters.logs import get_logger
from dreamina.ports.object_store import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SIGNED_URL_SECONDS,
    MAX_BATCH_DELETE,
    ObjectNotFound,
    is_at_or_under,
    validate_content_type,
    validate_expiry,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from obstore.store import S3Config

log = get_logger("dreamina.object_store")
ABORT_RULE_DAYS = 1  # the lifecycle rule the README documents: incomplete multipart uploads go after one day
LIFECYCLE_CHECK_SECONDS = 10.0  # the start-up check never holds a start longer (an unreachable S3 is /ready's)


class S3ObjectStore:
    """Objects in an S3 bucket (AWS, or any S3-compatible service) through obstore.

    Streams are uploaded as multipart uploads of ``part_size`` bytes with at most ``max_concurrency`` parts in
    flight, so memory stays near ``part_size * max_concurrency``; objects smaller than one part go in a single
    PUT. A writer killed mid-upload leaves its parts in the bucket, invisible to ``list``: :meth:`abort_incomplete`
    removes them, and a lifecycle rule that aborts incomplete multipart uploads after a day catches the rest
    (:meth:`check_lifecycle` warns at start-up without one). Without explicit credentials, the usual chain applies
    (``AWS_*`` environment variables, web identity, instance metadata).
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
        self._uploads = S3MultipartUploads(
            bucket,
            region_name=region,
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id,  # None for both: the usual credential chain
            aws_secret_access_key=secret_access_key,
            config=AioConfig(
                s3={"addressing_style": "path" if path_style else "virtual"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
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

        try:
            await obstore.put_async(
                self._store,
                key,
                body(),
                attributes=attributes,
                use_multipart=True,
                chunk_size=self._part_size,
                max_concurrency=self._max_concurrency,
            )
        except BaseException as stopped:
            # obstore aborts its upload when the stream fails, but not when the task is cancelled (a worker
            # stopping): abort what is left of the key's upload so no part outlives its writer
            if not isinstance(stopped, Exception):
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._uploads.abort(key))
            raise
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

    async def list_incomplete(self, prefix: str) -> builtins.list[str]:
        normalised = validate_prefix(prefix, allow_empty=True)
        return sorted(key for key, _ in await self._uploads.find(normalised))

    async def abort_incomplete(self, prefix: str) -> int:
        return await self._uploads.abort(validate_prefix(prefix, allow_empty=False))

    async def check_lifecycle(self) -> None:
        """Warn (``s3_lifecycle_missing_abort_rule``) unless an enabled lifecycle rule aborts incomplete multipart
        uploads in the whole bucket; where the service will not say (no permission, not implemented), log
        ``s3_lifecycle_unchecked``. Never raises: start-up goes on either way."""
        try:
            async with asyncio.timeout(LIFECYCLE_CHECK_SECONDS):
                rules = await self._uploads.lifecycle_rules()
        except Exception as error:  # refused, unreachable, slow, not implemented: say so and start
            code = error.response["Error"].get("Code") if isinstance(error, ClientError) else type(error).__name__
            log.warning("s3_lifecycle_unchecked", bucket=self.bucket, error_code=code)
            return
        if not any(_aborts_incomplete_everywhere(rule) for rule in rules):
            log.warning(
                "s3_lifecycle_missing_abort_rule",
                bucket=self.bucket,
                hint=f"add a lifecycle rule with AbortIncompleteMultipartUpload after {ABORT_RULE_DAYS} day for the "
                "whole bucket (README: Production quick start, Object store)",
            )


class S3MultipartUploads:
    """The bucket's incomplete multipart uploads and lifecycle rules, through aiobotocore (obstore lists neither)."""

    def __init__(self, bucket: str, **client_options: Any) -> None:
        """``client_options``: what aiobotocore's ``create_client("s3", ...)`` takes (endpoint, region, keys)."""
        self.bucket = bucket
        self._session = get_session()
        self._options = client_options

    def _client(self) -> Any:
        return self._session.create_client("s3", **self._options)

    async def find(self, prefix: str, client: Any = None) -> list[tuple[str, str]]:
        """``(key, upload id)`` of every incomplete upload at or under ``prefix`` (whole segments)."""
        if client is None:
            async with self._client() as own:
                return await self.find(prefix, own)
        found: list[tuple[str, str]] = []
        async for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(
                (upload["Key"], upload["UploadId"])
                for upload in page.get("Uploads", [])
                if is_at_or_under(upload["Key"], prefix)
            )
        return found

    async def abort(self, prefix: str) -> int:
        """Abort every incomplete upload at or under ``prefix``; returns how many this call aborted."""
        aborted = 0
        async with self._client() as client:
            for key, upload_id in await self.find(prefix, client):
                try:
                    await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                except ClientError as error:
                    if error.response["Error"].get("Code") != "NoSuchUpload":
                        raise
                    continue  # aborted or completed meanwhile
                aborted += 1
        return aborted

    async def lifecycle_rules(self) -> list[Mapping[str, Any]]:
        """The bucket's lifecycle rules (none configured: an empty list)."""
        async with self._client() as client:
            try:
                answer = await client.get_bucket_lifecycle_configuration(Bucket=self.bucket)
            except ClientError as error:
                if error.response["Error"].get("Code") == "NoSuchLifecycleConfiguration":
                    return []
                raise
        return list(answer.get("Rules", []))


def _aborts_incomplete_everywhere(rule: Mapping[str, Any]) -> bool:
    """An enabled rule that aborts incomplete multipart uploads and applies to every key (no prefix, no tags)."""
    if rule.get("Status") != "Enabled" or "DaysAfterInitiation" not in rule.get("AbortIncompleteMultipartUpload", {}):
        return False
    scope = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
    return scope in ({}, {"Prefix": ""})


def _attributes(content_type: str) -> dict[str, str]:
    return {"Content-Type": validate_content_type(content_type)}
