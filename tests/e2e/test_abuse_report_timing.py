"""The abuse-report route is no timing oracle either: it does the same work for a generation that exists and for
one that does not (count, seal, insert; matching comes after the answer). Measured as the child-report route is
(``test_child_report_timing``: interleaved tries, medians, up to three rounds), on every backend."""

from __future__ import annotations

import time
import uuid

from dreamina.bootstrap import Container
from dreamina.domain.generation.abuse_intake import AbuseReportRules
from tests.http_client import AsyncTestClient

from .helpers import signed_in
from .test_child_report_timing import same_time_in_some_round

REPORTS = "/v1/abuse-reports"


async def test_the_report_route_takes_as_long_for_an_existing_generation_as_for_an_unknown_one(
    client: AsyncTestClient, container: Container
) -> None:
    owner = await signed_in(client, "owner@example.com")
    created = await client.post("/v1/generations", headers=owner, json={"kind": "image", "prompt": "a red kite"})
    assert created.status_code == 202, created.text
    # the limits would stop 200 reports about one generation; this test measures the work, not the throttle
    container.abuse.intake.rules = AbuseReportRules(per_target_limit=10**6, per_client_limit=10**6)
    targets = {"registered@example.com": created.json()["id"], "nobody@example.com": str(uuid.uuid4())}

    async def one(target: str, i: int) -> float:
        body = {"generation_id": targets[target], "reason": "other", "contact": f"r{i}@example.org", "details": "x"}
        started = time.perf_counter()
        response = await client.post(REPORTS, json=body)
        elapsed = time.perf_counter() - started
        assert response.status_code == 202, response.text
        return elapsed

    await same_time_in_some_round(one, first_seed=17)

    counts = await container.abuse.matching.run_due()
    assert counts["abuse_reports_filed"] > 0 and counts["abuse_reports_dropped"] > 0
