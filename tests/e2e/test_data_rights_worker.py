"""The in-process data-rights runner: one pass runs due jobs, the retention sweep and (hourly) the deadline monitor."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta

from dreamina.adapters.clock import MovableClock
from dreamina.bootstrap import Container
from dreamina.entrypoints.workers.data_rights import DataRightsRunner
from tests.http_client import AsyncTestClient

from .data_rights_helpers import submit, submit_proven
from .helpers import PASSWORD, signed_in


async def test_a_pass_runs_jobs_sweeps_and_monitors(
    client: AsyncTestClient, container: Container, logs: io.StringIO
) -> None:
    headers = await signed_in(client, "run@example.com", country="KR")
    await submit_proven(client, headers, "export")
    await submit(client, headers, "rectification", {"free_text": "wrong name"})
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    runner = DataRightsRunner(container)
    first = await runner.run_once()
    assert first["done"] == 1 and first["retention_applied"] == 0
    clock.advance(timedelta(days=8))
    second = await runner.run_once()  # the retention sweep deletes the expired archive (and the expired sessions)
    assert second["retention_applied"] >= 1 and second["near_due"] == 1
    assert await container.infra.object_store.list("exports/") == []
    clock.advance(timedelta(minutes=10))
    third = await runner.run_once()
    assert third["near_due"] == 0 and third["retention_applied"] == 0  # the monitor runs hourly, the sweep too
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if "data_rights_pass_finished" in line]
    assert len(lines) == 3
    assert "run@example.com" not in logs.getvalue()


async def test_an_expedited_erasure_runs_on_the_next_pass(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "now@example.com")
    subject = uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    request = await submit_proven(client, headers, "erasure")
    runner = DataRightsRunner(container)
    assert (await runner.run_once())["done"] == 0  # scheduled 30 days ahead
    officer = uuid.uuid4()
    await container.data_rights.queue.expedite_erasure(officer, uuid.UUID(request["id"]), "confirmed with the subject")
    assert (await runner.run_once())["done"] == 1  # the very next pass, the clock unmoved
    async with container.infra.uow() as uow:
        assert await uow.accounts.get(subject) is None
        assert await uow.subject_keys.get(subject) is None
        assert await uow.privacy_requests.list_for_subject(subject) == []
        assert await uow.privacy_jobs.get(uuid.UUID(request["id"])) is None
    signin = await client.post("/v1/auth/token", json={"email": "now@example.com", "password": PASSWORD})
    assert signin.status_code == 401
    assert (await runner.run_once())["done"] == 0  # nothing left to do
