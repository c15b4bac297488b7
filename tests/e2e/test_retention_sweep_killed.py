"""A retention sweep killed with SIGKILL while it drops whole days of analytics events on PostgreSQL, two drop
transactions in flight (``WHOLE_PERIODS_IN_FLIGHT``): what it committed stays done, whole days only, and the restarted
sweep removes the rest and counts each event once.

``dreamina sweep`` runs as an operator runs it, against its own database, and kills itself at the failpoint
``retention.after_whole_periods`` (its first transaction committed, the other in flight, which the kill aborts).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from dreamina.adapters.sql.database import upgrade
from dreamina.adapters.sql.partitions import ANALYTICS_EVENTS, PARTITIONS_PER_TRANSACTION, create_partitions
from dreamina.domain.consent.analytics import RETENTION_DAYS

from ..conftest import _create_postgres_database, _drop_postgres_database
from . import kill_rig

pytestmark = [pytest.mark.postgres]

PER_DAY = 7
EXPIRED_DAYS = 3 * PARTITIONS_PER_TRANSACTION + 13  # four drop transactions' worth
KEPT_DAYS = 10
FAILPOINT = "retention.after_whole_periods=analytics_events.expired"


@pytest.fixture
async def database(postgres_server_url: str) -> AsyncIterator[str]:
    """A database of its own: the sweep drops every expired partition, whoever made it."""
    url = await _create_postgres_database(postgres_server_url)
    try:
        await upgrade(url)
        yield url
    finally:
        await _drop_postgres_database(postgres_server_url, url)


async def _sql(url: str, statement: str, **params: Any) -> list[Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        await engine.dispose()


async def _events_by_day(url: str) -> dict[date, int]:
    return dict(await _sql(url, "SELECT day, count(*) FROM analytics_events GROUP BY day"))  # type: ignore[arg-type]


def _applied(log: Path, task: str) -> list[int]:
    """The ``applied`` of every ``retention_task_done`` line for ``task`` in ``log``."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == "retention_task_done" and record.get("task") == task:
            found.append(int(record["applied"]))
    return found


async def test_a_sweep_killed_between_its_drop_transactions_keeps_whole_days_and_counts_each_event_once(
    database: str, tmp_path: Path
) -> None:
    # Days two and more before the cutoff expire, days one and more after it are kept, whichever side of midnight
    # (UTC) the sweep starts on.
    cutoff = datetime.now(UTC).date() - timedelta(days=RETENTION_DAYS)
    expired = [cutoff - timedelta(days=n) for n in range(EXPIRED_DAYS + 1, 1, -1)]  # oldest first
    kept = [cutoff + timedelta(days=n) for n in range(1, KEPT_DAYS + 1)]
    engine = create_async_engine(database, poolclass=NullPool)
    try:
        async with engine.begin() as connection:  # the days' partitions, as the sweeps of those days made them
            await create_partitions(connection, ANALYTICS_EVENTS, expired[0], kept[-1])
    finally:
        await engine.dispose()
    await _sql(
        database,
        "INSERT INTO analytics_events (id, day, name, page, country, browser_family, device_class, pseudonym) "
        "SELECT gen_random_uuid(), d::date, 'page_view', '/', 'DE', 'Firefox', 'desktop', md5(d::text || n) "
        "FROM unnest(CAST(:days AS date[])) AS d, generate_series(1, :per_day) AS n",
        days=[*expired, *kept],
        per_day=PER_DAY,
    )
    assert await _events_by_day(database) == {day: PER_DAY for day in [*expired, *kept]}

    settings = {"DREAMINA_DATA_DIR": str(tmp_path / "data"), "DREAMINA_DATABASE_URL": database}
    killed_log = tmp_path / "sweep-killed.log"
    process = kill_rig.start("sweep", {**settings, "DREAMINA_FAILPOINTS": FAILPOINT}, killed_log)
    await kill_rig.killed_at(process, FAILPOINT, killed_log)
    assert _applied(killed_log, "analytics_events.expired") == []  # killed before it could report

    after_kill = await _events_by_day(database)
    left = [day for day in expired if day in after_kill]
    gone = [day for day in expired if day not in after_kill]
    assert all(after_kill[day] == PER_DAY for day in after_kill)  # no day partly deleted
    assert len(gone) >= PARTITIONS_PER_TRANSACTION  # what the first transaction committed stayed done
    assert left, "the kill came after every day was dropped: nothing left to prove"
    assert gone == expired[: len(gone)]  # the oldest days first
    assert [day for day in kept if after_kill.get(day) == PER_DAY] == kept

    log = tmp_path / "sweep.log"
    process = kill_rig.start("sweep", settings, log)
    assert process.wait(timeout=kill_rig.WAIT_SECONDS) == 0, kill_rig.tail(log)
    assert _applied(log, "analytics_events.expired") == [PER_DAY * len(left)]  # each event left counted once
    assert await _events_by_day(database) == {day: PER_DAY for day in kept}
