"""What a writer killed mid-upload leaves in each object store, made directly (no adapter call can leave it)."""

from __future__ import annotations

from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.object_store import LocalObjectStore
from dreamina.adapters.s3_object_store import S3ObjectStore
from dreamina.ports.object_store import ObjectStore

from .s3_server import MotoS3Server

PART = b"personal data written before the kill\n" * 1024


def abandon_upload(store: ObjectStore, key: str, moto: MotoS3Server | None = None, data: bytes = PART) -> None:
    """An unfinished upload of ``key`` holding ``data`` in one part (S3: a multipart upload; local: a partial file)."""
    if isinstance(store, InMemoryObjectStore):
        store.abandon_upload(key, data)
    elif isinstance(store, LocalObjectStore):
        _, handle = store._open_temporary(key)
        with handle:
            handle.write(data)
    else:
        assert isinstance(store, S3ObjectStore) and moto is not None
        s3 = moto.client()
        upload = s3.create_multipart_upload(Bucket=store.bucket, Key=key)
        s3.upload_part(Bucket=store.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=data)
