"""The bare stack the HTTP benchmark measures the service against: Litestar + msgspec + a raw asyncpg pool, served
by uvicorn exactly as ``dreamina serve`` serves the API (one process; uvicorn's automatic choice of event loop and
HTTP parser, which picks uvloop and httptools when installed, as they are; no access log, no server header, no proxy
headers).

Routes, each the least a framework can do for that kind of request:

- ``GET /hello``: a constant JSON body, no database;
- ``GET /rows/{id}``: one primary-key ``SELECT`` of a row, returned as JSON;
- ``POST /rows`` (201) and ``PUT /rows`` (200): one ``INSERT ... RETURNING`` of the JSON body, the new id returned.

Its table, ``bench_bare_rows``, is created (and 1,000 rows seeded) in the database it is given on first start.

    .venv/bin/python bench/bare_app.py --port 8001 --dsn postgresql://dreamina:dreamina@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
import msgspec
import uvicorn
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


@post("/rows", status_code=201)
async def insert_row(data: RowIn) -> Created:
    return await _insert(data)


@put("/rows", status_code=200)
async def insert_row_put(data: RowIn) -> Created:
    return await _insert(data)


def create_app(dsn: str) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        Pool.pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=2 * POOL_SIZE)
        async with Pool.pool.acquire() as connection:
            await connection.execute(SCHEMA)
            if await connection.fetchval("SELECT count(*) FROM bench_bare_rows") == 0:
                await connection.execute(SEED, SEED_ROWS)
        try:
            yield
        finally:
            await Pool.pool.close()

    return Litestar(
        route_handlers=[hello, read_row, insert_row, insert_row_put],
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
