"""A real S3 endpoint for tests: moto's threaded server on 127.0.0.1, one fresh bucket per test."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "testing-access-key"
SECRET_ACCESS_KEY = "testing-secret-key"
REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class MotoS3Server:
    endpoint_url: str

    def client(self) -> Any:
        """A boto3 S3 client for the test's own look at the server (what the adapters hide: uploads, parts)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def create_bucket(self) -> str:
        """A new empty bucket with a unique name, so tests never see each other's objects."""
        name = f"test-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name


@contextmanager
def running_moto_server() -> Iterator[MotoS3Server]:
    """Start moto on a free port of 127.0.0.1 and stop it afterwards."""
    # werkzeug logs every request at INFO; that floods test output without saying anything useful
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoS3Server(endpoint_url=f"http://{host}:{port}")
    finally:
        server.stop()
