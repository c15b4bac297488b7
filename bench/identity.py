"""Benchmark: the per-request identity path (bearer token -> principal -> profile) against baselines.

Run with ``bench/run`` (embedded SQLite, plus PostgreSQL when DREAMINA_BENCH_POSTGRES_URL is set). Prints, per
backend: authenticate() per second against one raw indexed SELECT of the same session row (the floor any
implementation pays), and GET /v1/me per second through the whole HTTP stack against GET /health.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import date
from pathlib import Path

import httpx
from common import UNLIMITED, on_every_backend, rate
from sqlalchemy import text

from dreamina.adapters.crypto import InMemoryKeyVault
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.adapters.sql.database import upgrade
from dreamina.bootstrap import build_container, sql_database
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.identity.sessions import hash_token
from dreamina.entrypoints.http.app import create_app
from dreamina.settings import load_settings

ROUNDS = int(os.environ.get("DREAMINA_BENCH_ROUNDS", "2000"))


async def bench_backend(name: str, url: str, workdir: Path) -> None:
    await upgrade(url)
    database = sql_database(url)
    settings = load_settings({"DREAMINA_DATA_DIR": str(workdir), **UNLIMITED})
    container = build_container(
        settings,
        uow=database.unit_of_work,
        database_ping=database.ping,
        vault=InMemoryKeyVault(),
        mailer=InMemoryMailer(),
        passwords=Argon2PasswordHasher.fast(),
    )
    container.lifecycle.closers.append(database.dispose)
    await container.start()
    email = f"bench-{time.time_ns()}@example.com"
    await container.identity.registrations.sign_up(
        SignUp(email, "correct horse battery staple", date(1990, 1, 1), "DE", None, 1)
    )
    token = (await container.identity.sessions.issue_token(email, "correct horse battery staple")).access_token
    digest = hash_token(token)

    async def raw_select() -> object:
        async with database.engine.connect() as connection:
            return (
                await connection.execute(
                    text("SELECT account_id FROM auth_sessions WHERE token_hash = :h"), {"h": digest}
                )
            ).scalar_one()

    async def authenticate() -> object:
        return await container.identity.sessions.authenticate(token)

    baseline = await rate(raw_select, ROUNDS)
    measured = await rate(authenticate, ROUNDS)
    print(
        f"{name:9} authenticate(): {measured:9.0f}/s   raw indexed SELECT: {baseline:9.0f}/s   "
        f"ratio {baseline / measured:5.2f}x"
    )

    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app)  # same event loop as the pooled engine
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = {"Authorization": f"Bearer {token}"}

        async def me() -> object:
            response = await client.get("/v1/me", headers=headers)
            assert response.status_code == 200
            return response

        async def health() -> object:
            return await client.get("/health")

        http_rounds = max(100, ROUNDS // 4)
        base_http = await rate(health, http_rounds)
        me_rate = await rate(me, http_rounds)
        print(
            f"{name:9} GET /v1/me:     {me_rate:9.0f}/s   GET /health:        {base_http:9.0f}/s   "
            f"ratio {base_http / me_rate:5.2f}x"
        )
    await container.aclose()


async def main() -> int:
    return await on_every_backend(f"rounds per sample: {ROUNDS} (median of 3 samples)", bench_backend)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
