"""Running the retention sweep outside the CLI: logged with counts per task and per category, and repeated every
``DREAMINA_RETENTION_SWEEP_MINUTES`` inside the process in the embedded profile (production: the SAQ cron job in
``adapters/queue/saq_worker.py``). The interval is the bound of guarantee G7."""

from __future__ import annotations

from collections import Counter

from dreamina.adapters.logs import get_logger
from dreamina.adapters.periodic import Periodic
from dreamina.domain.privacy.retention import Progress, RetentionSweep, SweepReport

log = get_logger("dreamina.retention")


def per_category(reports: list[SweepReport]) -> dict[str, dict[str, int]]:
    """The per-task report summed by data category."""
    due: Counter[str] = Counter()
    applied: Counter[str] = Counter()
    for report in reports:
        due[report.category] += report.due
        applied[report.category] += report.applied
    return {category: {"due": due[category], "applied": applied[category]} for category in sorted(due)}


async def sweep_and_log(
    sweep: RetentionSweep, *, dry_run: bool = False, progress: Progress | None = None
) -> list[SweepReport]:
    """One full sweep; logs start, one line per task and per category, and the end (counts only, never records)."""
    log.info("retention_sweep_started", dry_run=dry_run, tasks=len(sweep.tasks))
    reports = await sweep.run(dry_run=dry_run, progress=progress)
    for report in reports:
        log.info(
            "retention_task_done",
            task=report.task,
            category=report.category,
            due=report.due,
            applied=report.applied,
            dry_run=dry_run,
        )
    for category, counts in per_category(reports).items():
        log.info("retention_category_done", category=category, dry_run=dry_run, **counts)
    log.info("retention_sweep_finished", applied=sum(r.applied for r in reports), dry_run=dry_run)
    return reports


class PeriodicSweep(Periodic):
    """Runs the sweep every ``interval_seconds`` in this process (first run one interval after start); a sweep that
    fails is logged and the next one retries: each batch commits, so nothing finished is lost."""

    def __init__(self, sweep: RetentionSweep, interval_seconds: float) -> None:
        super().__init__("retention-sweep", interval_seconds, lambda: sweep_and_log(sweep))
