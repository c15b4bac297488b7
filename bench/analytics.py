"""Benchmark: analytics ingest (consent check, objection check, traits, pseudonym, batch insert) against a bare
batch insert of the same rows, in the same run, on SQLite and on PostgreSQL (DREAMINA_BENCH_POSTGRES_URL).

Prints events/s for ``Analytics.ingest`` with 100-event batches from a consenting signed-in subject, events/s
for one ``INSERT ... VALUES`` executemany of 100 ready-made rows plus commit (the floor any implementation
pays), and their ratio.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from common import on_every_backend, rate
from sqlalchemy import insert

from dreamina.adapters.crypto import InMemoryKeyVault
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.adapters.sql.database import upgrade
from dreamina.adapters.sql.models_consent import AnalyticsEventRow
from dreamina.adapters.sql.repositories_analytics import analytics_row
from dreamina.bootstrap import build_container, sql_database
from dreamina.domain.consent.analytics import IncomingEvent
from dreamina.domain.consent.preferences import Choices, Requester
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.consent import AnalyticsEvent, ConsentMethod
from dreamina.settings import load_settings

BATCHES = int(os.environ.get("DREAMINA_BENCH_ANALYTICS_BATCHES", "200"))
BATCH = 100
AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


async def rate_of_events(operation: Callable[[], Awaitable[object]]) -> float:
    return await rate(operation, BATCHES, per_call=BATCH)


async def bench_backend(name: str, url: str, workdir: Path) -> None:
    await upgrade(url)
    database = sql_database(url)
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(workdir)}),
        uow=database.unit_of_work,
        database_ping=database.ping,
        vault=InMemoryKeyVault(),
        mailer=InMemoryMailer(),
        passwords=Argon2PasswordHasher.fast(),
    )
    container.lifecycle.closers.append(database.dispose)
    await container.start()
    subject = await container.identity.registrations.sign_up(
        SignUp(f"bench-{time.time_ns()}@example.com", "correct horse battery staple", date(1990, 1, 1), "DE", None, 1)
    )
    requester = Requester(subject_id=subject)
    await container.consent.choices.choose(requester, Choices(analytics=True), ConsentMethod.API)
    incoming = [IncomingEvent("page_view", page=f"/p/{i % 7}") for i in range(BATCH)]

    async def ingest() -> object:
        result = await container.consent.analytics.ingest(
            requester, incoming, address="85.214.132.117", user_agent=AGENT
        )
        assert result.recorded == BATCH
        return result

    template = AnalyticsEvent(
        id=uuid.uuid4(),
        day=container.infra.clock.now().date(),
        name="page_view",
        feature=None,
        page="/p/0",
        country="DE",
        browser_family="Chrome",
        device_class="desktop",
        pseudonym="p" * 32,
    )

    async def bare_insert() -> object:
        rows = [analytics_row(replace(template, id=uuid.uuid4())) for _ in range(BATCH)]
        async with database.session_factory() as session:
            await session.execute(insert(AnalyticsEventRow), rows)
            await session.commit()
        return rows

    baseline = await rate_of_events(bare_insert)
    measured = await rate_of_events(ingest)
    print(
        f"{name:9} analytics ingest: {measured:9.0f} events/s   bare batch insert: {baseline:9.0f} events/s   "
        f"ratio {baseline / measured:5.2f}x   (batches of {BATCH})"
    )
    await container.aclose()


async def main() -> int:
    return await on_every_backend(
        f"analytics: {BATCHES} batches of {BATCH} events per sample (median of 3 samples)", bench_backend
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
