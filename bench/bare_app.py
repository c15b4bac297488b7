"""The bare stack the HTTP benchmark measures the service against: Litestar + msgspec + a raw asyncpg pool, served
by uvicorn exactly as ``dreamina serve`` serves the API (one process; uvicorn's automatic choice of event loop and
HTTP parser, which picks uvloop and httptools when installed, as they are; no access log, no server header, no proxy
headers).

Routes, each the least a framework can do for that kind of request:

- ``GET /hello``: a constant JSON body, no database;
- ``GET /rows/{id}``: one primary-key ``SELECT`` of a row, returned as JSON;
- ``POST /rows`` (201) and ``PUT /rows`` (200): one ``INSERT ... RETURNING`` of the JSON body, the new id returned;
- ``GET /pages/{subject}``: the bare stack's own page of 20 generations, the rows ``GET /v1/generations`` reads
  (a subject's newest first, 21 asked for to know whether there are more), each prompt opened with AES-256-GCM as
  the service opens it, returned in the service's list shape. Not a target of issue 14 (which measures the service's
  page against the primary-key read): the floor, what the stack alone pays for a page against its own one-row read.

Its tables, ``bench_bare_rows`` (1,000 rows) and ``bench_bare_pages`` (20 rows for each of 64 subjects), are created
and seeded in the database it is given on first start.

    .venv/bin/python bench/bare_app.py --port 8001 --dsn postgresql://dreamina:dreamina@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import base64
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
import msgspec
import uvicorn
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar import Litestar, get, post, put
from litestar.exceptions import NotFoundException

POOL_SIZE = 10  # the service's SQLAlchemy pool: 10 connections (and up to 10 more on overflow)
SEED_ROWS = 1000
SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_bare_rows (
    id bigserial PRIMARY KEY,
    subject uuid NOT NULL,
    name text NOT NULL,
    page text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
SEED = """
INSERT INTO bench_bare_rows (subject, name, page)
SELECT gen_random_uuid(), 'page_view', '/gallery/' || g FROM generate_series(1, $1::int) AS g
"""
PAGE_SUBJECTS = 64  # the subjects with a page of their own: more than the benchmark's users (16 by default)
PAGE_ROWS = 20  # a full first page, as SEEDED_GENERATIONS in http_vs_bare.py
PAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_bare_pages (
    id uuid PRIMARY KEY,
    subject int NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    prompt bytea NOT NULL,
    params jsonb NOT NULL,
    outputs jsonb NOT NULL,
    failure_reason text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS bench_bare_pages_newest ON bench_bare_pages (subject, created_at DESC, id DESC)
"""
PAGE = """
SELECT id, kind, status, prompt, params, outputs, failure_reason, created_at, updated_at
FROM bench_bare_pages WHERE subject = $1 ORDER BY created_at DESC, id DESC LIMIT $2
"""
PROMPT = "a lighthouse at dusk, oil on canvas"  # the benchmark's own submission (http_vs_bare.SUBMISSION)
KEY = AESGCM(bytes(32))  # a fixed key: the page's cost, not its secrecy, is measured


class Hello(msgspec.Struct):
    hello: str


class RowIn(msgspec.Struct, forbid_unknown_fields=True):
    subject: uuid.UUID
    name: str
    page: str


class Row(msgspec.Struct):
    id: int
    subject: uuid.UUID
    name: str
    page: str
    created_at: datetime


class Created(msgspec.Struct):
    id: int
    created_at: datetime


class Params(msgspec.Struct, omit_defaults=True):
    aspect_ratio: str
    count: int | None = None


class Output(msgspec.Struct):
    url: str
    content_type: str
    bytes: int


class Item(msgspec.Struct):
    id: uuid.UUID
    kind: str
    status: str
    prompt: str
    params: Params
    reference_upload_ids: list[uuid.UUID]
    outputs: list[Output]
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


class Page(msgspec.Struct):
    items: list[Item]
    next_cursor: str | None


class Pool:
    """The process's asyncpg pool, opened by the lifespan."""

    pool: asyncpg.Pool


HELLO = Hello("world")


@get("/hello")
async def hello() -> Hello:
    return HELLO


@get("/rows/{row_id:int}")
async def read_row(row_id: int) -> Row:
    found = await Pool.pool.fetchrow(
        "SELECT id, subject, name, page, created_at FROM bench_bare_rows WHERE id = $1", row_id
    )
    if found is None:
        raise NotFoundException()
    return Row(**dict(found))


async def _insert(data: RowIn) -> Created:
    row = await Pool.pool.fetchrow(
        "INSERT INTO bench_bare_rows (subject, name, page) VALUES ($1, $2, $3) RETURNING id, created_at",
        data.subject,
        data.name,
        data.page,
    )
    assert row is not None
    return Created(id=row["id"], created_at=row["created_at"])


def _seal(row_id: uuid.UUID, text: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + KEY.encrypt(nonce, text.encode(), row_id.bytes)


def _open(row_id: uuid.UUID, sealed: bytes) -> str:
    return KEY.decrypt(sealed[:12], sealed[12:], row_id.bytes).decode()


@get("/pages/{subject:int}")
async def read_page(subject: int) -> Page:
    rows = await Pool.pool.fetch(PAGE, subject, PAGE_ROWS + 1)
    items = [
        Item(
            id=r["id"],
            kind=r["kind"],
            status=r["status"],
            prompt=_open(r["id"], r["prompt"]),
            params=msgspec.convert(r["params"], Params),
            reference_upload_ids=[],
            outputs=msgspec.convert(r["outputs"], list[Output]),
            failure_reason=r["failure_reason"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )
        for r in rows[:PAGE_ROWS]
    ]
    more = len(rows) > PAGE_ROWS
    cursor = base64.urlsafe_b64encode(f"{items[-1].created_at.isoformat()}|{items[-1].id}".encode()).decode()
    return Page(items=items, next_cursor=cursor if more and items else None)


async def _seed_pages(connection: asyncpg.Connection) -> None:
    await connection.execute(PAGE_SCHEMA)
    if await connection.fetchval("SELECT count(*) FROM bench_bare_pages"):
        return
    rows = []
    for subject in range(1, PAGE_SUBJECTS + 1):
        for _ in range(PAGE_ROWS):
            row_id = uuid.uuid4()
            params = {"aspect_ratio": "1:1", "count": 1}
            rows.append((row_id, subject, "image", "queued", _seal(row_id, PROMPT), params))
    await connection.executemany(
        "INSERT INTO bench_bare_pages (id, subject, kind, status, prompt, params, outputs, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, '[]', clock_timestamp(), clock_timestamp())",
        rows,
    )


async def _json_codecs(connection: asyncpg.Connection) -> None:
    """JSONB as the service's connections decode it (msgspec)."""
    await connection.set_type_codec(
        "jsonb", encoder=lambda v: msgspec.json.encode(v).decode(), decoder=msgspec.json.decode, schema="pg_catalog"
    )


@post("/rows", status_code=201)
async def insert_row(data: RowIn) -> Created:
    return await _insert(data)


@put("/rows", status_code=200)
async def insert_row_put(data: RowIn) -> Created:
    return await _insert(data)


def create_app(dsn: str) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        Pool.pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=2 * POOL_SIZE, init=_json_codecs)
        async with Pool.pool.acquire() as connection:
            await connection.execute(SCHEMA)
            if await connection.fetchval("SELECT count(*) FROM bench_bare_rows") == 0:
                await connection.execute(SEED, SEED_ROWS)
            await _seed_pages(connection)
        try:
            yield
        finally:
            await Pool.pool.close()

    return Litestar(
        route_handlers=[hello, read_row, read_page, insert_row, insert_row_put],
        lifespan=[lifespan],
        logging_config=None,
        openapi_config=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True, help="postgresql://user:password@host:port/database")
    args = parser.parse_args()
    # The same server settings as ``dreamina serve`` (entrypoints/cli.py).
    uvicorn.run(
        create_app(args.dsn),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
