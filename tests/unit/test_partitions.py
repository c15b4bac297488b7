"""The partition calendar (``adapters/sql/partitions.py``): periods, names, bounds and when a period is wholly
past a cutoff; and partition work that cannot be done now (no lock at once, a role that does not own the table)
is left to the batches instead of failing the sweep, while any other error still fails it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from dreamina.adapters.sql import partitions
from dreamina.adapters.sql.partitions import ANALYTICS_EVENTS, AUDIT_EVENTS, HANDLED_PAYMENT_EVENTS


def test_daily_periods() -> None:
    spec = ANALYTICS_EVENTS
    assert spec.start(date(2026, 12, 31)) == date(2026, 12, 31)
    assert spec.following(date(2026, 12, 31)) == date(2027, 1, 1)
    assert spec.name(date(2026, 3, 5)) == "analytics_events_p20260305"
    assert spec.start_of("analytics_events_p20260305") == date(2026, 3, 5)
    assert spec.start_of("analytics_events_default") is None
    assert spec.start_of("analytics_events_p202603") is None  # a monthly name is not one of this table's
    assert spec.bound(date(2026, 3, 5)) == "'2026-03-05'"
    # a day is wholly expired once the cutoff day is after it: analytics keeps the cutoff day itself
    assert spec.expired(date(2026, 3, 5), date(2026, 3, 6))
    assert not spec.expired(date(2026, 3, 5), date(2026, 3, 5))


def test_monthly_periods_in_utc() -> None:
    spec = AUDIT_EVENTS
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert spec.start(late) == date(2026, 12, 1)
    assert spec.following(date(2026, 12, 1)) == date(2027, 1, 1)
    assert spec.name(date(2026, 12, 1)) == "audit_events_p202612"
    assert spec.start_of("audit_events_p202612") == date(2026, 12, 1)
    assert spec.bound(date(2026, 12, 1)) == "'2026-12-01 00:00:00+00'"
    assert spec.expired(date(2026, 11, 1), datetime(2026, 12, 1, tzinfo=UTC))
    assert not spec.expired(date(2026, 11, 1), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))


def test_only_the_partitions_are_left_out_of_the_model_comparison() -> None:
    assert partitions.is_partition("analytics_events_p20260305")
    assert partitions.is_partition("audit_events_p202612")
    assert partitions.is_partition("processed_payment_events_default")
    assert not partitions.is_partition("analytics_events")
    assert not partitions.is_partition("payments_p202612")
    assert not partitions.is_partition("audit_events_p2026")


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class _Rows(list[tuple[str]]):
    def scalar_one(self) -> Any:
        return self[0][0]


class _Session:
    """Answers the partition listing with one expired partition; fails the lock with ``sqlstate``."""

    def __init__(self, sqlstate: str) -> None:
        self._sqlstate = sqlstate
        self.dialect = "postgresql"

    async def execute(self, statement: Any, params: Any = None) -> _Rows:
        sql = str(statement)
        if sql.startswith("LOCK TABLE"):
            raise DBAPIError(sql, None, _Orig(self._sqlstate))
        if "pg_inherits" in sql:
            return _Rows([("processed_payment_events_p202001",)])
        return _Rows([(0,)])

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        yield


@pytest.mark.parametrize("sqlstate", ["55P03", "42501"])
async def test_partition_work_that_cannot_be_done_now_is_left_to_the_batches(sqlstate: str) -> None:
    session: Any = _Session(sqlstate)
    cutoff = datetime(2026, 1, 1, tzinfo=UTC)
    assert await partitions.drop_expired(session, HANDLED_PAYMENT_EVENTS, cutoff) is None
    await partitions.prepare(session, HANDLED_PAYMENT_EVENTS, date(2026, 1, 1))  # no partition made, no error


async def test_any_other_error_still_fails_the_sweep() -> None:
    session: Any = _Session("42P01")
    with pytest.raises(DBAPIError):
        await partitions.drop_expired(session, HANDLED_PAYMENT_EVENTS, datetime(2026, 1, 1, tzinfo=UTC))
