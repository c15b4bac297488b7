"""Issue 12, finding 6: the child-report route was a timing oracle (median 14.0 ms for a registered address against
4.4 ms for an unknown one). Now it does the same work either way (count, seal, insert; matching comes after the
answer), so the medians over 200 interleaved tries each agree: their ratio within 0.8..1.25 and their difference
under 1 ms (plus a tenth of the median where a loaded backend takes tens of ms), on every backend.

Robust on a loaded machine: warm-up first, known and unknown interleaved in a shuffled order so that any slowdown
hits both alike, medians rather than means, and the matcher does not run during the measurement. A sub-millisecond
wobble between two medians of ~2 ms still happens on a shared 2-core machine (CI once saw 1.52 ms against 2.03 ms,
the *unknown* address slower), so a measurement that falls outside the bounds is taken again, up to three rounds in
all: an oracle (work done only for a registered address) shows in every round, noise does not.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable

from dreamina.bootstrap import Container
from dreamina.domain.identity.child_report_filing import ChildReportRules
from tests.http_client import AsyncTestClient

from .helpers import signed_in

REPORTS = "/v1/privacy/child-reports"
TRIES = 200
WARM_UP = 20
ROUNDS = 3


async def test_the_report_route_takes_as_long_for_a_registered_address_as_for_an_unknown_one(
    client: AsyncTestClient, container: Container
) -> None:
    await signed_in(client, "registered@example.com")
    # the limits would stop 200 reports about one address; this test measures the work, not the throttle
    container.children.intake.rules = ChildReportRules(per_target_limit=10**6, per_reporter_limit=10**6)

    async def one(target: str, i: int) -> float:
        body = {"email": target, "contact": f"reporter{i}@example.org", "details": "she is nine"}
        started = time.perf_counter()
        response = await client.post(REPORTS, json=body)
        elapsed = time.perf_counter() - started
        assert response.status_code == 202, response.text
        return elapsed

    await same_time_in_some_round(one, first_seed=12)

    # the reports were received, not dropped: matching files the registered address's and drops the others
    counts = await container.children.matching.run_due()
    assert counts["child_reports_filed"] + counts["child_reports_dropped"] > 0


async def same_time_in_some_round(one: Callable[[str, int], Awaitable[float]], first_seed: int) -> None:
    """Up to :data:`ROUNDS` rounds of :func:`measure`; fails only when every round measured a difference."""
    reports: list[str] = []
    for round_ in range(ROUNDS):
        verdict = await measure(one, seed=first_seed + round_)
        if verdict is None:
            return
        reports.append(verdict)
    raise AssertionError("a timing difference in every round: " + "; ".join(reports))


async def measure(one: Callable[[str, int], Awaitable[float]], seed: int) -> str | None:
    """One round of interleaved tries; None when the two medians agree, else what was measured."""
    order = ["registered@example.com", "nobody@example.com"] * (TRIES + WARM_UP)
    random.Random(seed).shuffle(order)
    timings: dict[str, list[float]] = {"registered@example.com": [], "nobody@example.com": []}
    seen = dict.fromkeys(timings, 0)
    for i, target in enumerate(order):
        elapsed = await one(target, seed * 10_000 + i)
        seen[target] += 1
        if seen[target] > WARM_UP:
            timings[target].append(elapsed)
    assert len(timings["registered@example.com"]) == len(timings["nobody@example.com"]) == TRIES
    known = statistics.median(timings["registered@example.com"])
    unknown = statistics.median(timings["nobody@example.com"])
    ratio = known / unknown
    report = f"known {known * 1000:.2f} ms vs unknown {unknown * 1000:.2f} ms (ratio {ratio:.2f})"
    # Within 1 ms where a request takes a few ms (memory, SQLite); on a shared machine a backend's noise grows with
    # its latency (PostgreSQL under load: ~40 ms a request), so the bound widens by a tenth of the faster median.
    agree = 0.8 <= ratio <= 1.25 and abs(known - unknown) < 0.001 + 0.1 * min(known, unknown)
    return None if agree else report
