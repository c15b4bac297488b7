"""The SAQ cron tasks (the retention sweep, the deadline monitor) meet a database outage as an outage: one warning
line, no traceback, nothing raised into SAQ (which would log "Error processing job" with the whole trace); the next
tick runs them again. Found by a full run whose hourly sweep fell inside tests/e2e/test_saq_worker_faults.py's
fifteen seconds without the database."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from dreamina.adapters.logs import configure_logging
from dreamina.adapters.queue.saq_worker import run_deadline_monitor, run_retention_sweep
from dreamina.domain.privacy.errors import StoreUnavailable


class _DownSweep:
    tasks: list[Any] = []

    async def run(self, **_: Any) -> list[Any]:
        raise StoreUnavailable("the database is unavailable; try again shortly")


async def _down_monitor() -> dict[str, int]:
    raise StoreUnavailable("the database is unavailable; try again shortly")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    yield stream
    configure_logging("INFO")


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_a_retention_sweep_tick_during_a_database_outage_is_deferred_to_the_next(
    log_stream: io.StringIO,
) -> None:
    assert await run_retention_sweep({"retention": _DownSweep()}) == 0
    deferred = [line for line in _lines(log_stream) if line["event"] == "retention_sweep_deferred"]
    assert deferred == [deferred[0]] and deferred[0]["level"] == "warning"
    assert deferred[0]["error_type"] == "StoreUnavailable"
    assert "Traceback" not in log_stream.getvalue()


async def test_a_deadline_monitor_tick_during_a_database_outage_is_deferred_to_the_next(
    log_stream: io.StringIO,
) -> None:
    assert await run_deadline_monitor({"monitors": [_down_monitor]}) == {}
    deferred = [line for line in _lines(log_stream) if line["event"] == "deadline_monitor_deferred"]
    assert len(deferred) == 1 and deferred[0]["level"] == "warning"
    assert "Traceback" not in log_stream.getvalue()


async def test_anything_else_a_sweep_raises_still_reaches_saq() -> None:
    class _Broken(_DownSweep):
        async def run(self, **_: Any) -> list[Any]:
            raise RuntimeError("a bug, not an outage")

    with pytest.raises(RuntimeError):
        await run_retention_sweep({"retention": _Broken()})
