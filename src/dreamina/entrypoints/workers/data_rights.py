"""``dreamina privacy-worker``'s timer: the reaper of the export and erasure jobs (which run from the job queue),
child-report matching, policy-change notices, marketing campaigns, mail delivery, the retention sweep (which deletes
expired export archives among the rest, every ``DREAMINA_RETENTION_SWEEP_MINUTES``) and the hourly deadline monitor.
Each pass is idempotent, so several runners (or a restart) never repeat finished work."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from dreamina.adapters.logs import get_logger
from dreamina.adapters.retention_runs import sweep_and_log
from dreamina.bootstrap import Container

MONITOR_EVERY = timedelta(hours=1)

log = get_logger("dreamina.worker.data_rights")


class DataRightsRunner:
    """Runs passes over the due work every ``interval_seconds`` until stopped.

    ``queued``: exports and erasures run from the job queue, and a pass only queues the due ones the queue does not
    hold (the reaper); otherwise (``--once``) a pass runs them itself. ``monitor``: run the deadline monitor here
    (on SAQ it is the privacy queue's hourly cron job instead)."""

    def __init__(
        self, container: Container, *, interval_seconds: float = 30.0, queued: bool = False, monitor: bool = True
    ) -> None:
        self._container = container
        self._interval = interval_seconds
        self._queued = queued
        self._monitor = monitor
        self._last_monitor: datetime | None = None
        self._last_sweep: datetime | None = None
        self._sweep_every = timedelta(minutes=container.settings.retention_sweep_minutes)
        self._stop = asyncio.Event()

    async def run_once(self) -> dict[str, int]:
        container = self._container
        log.info("data_rights_pass_started")
        if self._queued:
            jobs = {"jobs_queued": await container.data_rights.reap_jobs()}
        else:
            jobs = await container.data_rights.jobs.run_due()
        matched = await container.children.matching.run_due()  # received child reports, before the mail they queue
        matched = {**matched, **await container.abuse.matching.run_due()}  # received abuse reports
        notices = await container.consent.policy_changes.send_due_notices()  # a published policy version's notices
        marketing = await container.consent.marketing.send_due()  # marketing campaigns, to those who may get them
        mail = (await container.infra.mail.deliver_due()).as_counts()
        flagged = {"near_due": 0, "overdue": 0}
        now = container.infra.clock.now()
        swept = 0
        if self._last_sweep is None or now - self._last_sweep >= self._sweep_every:
            swept = sum(r.applied for r in await sweep_and_log(container.privacy.retention))
            self._last_sweep = now
        if self._monitor and (self._last_monitor is None or now - self._last_monitor >= MONITOR_EVERY):
            for monitor in container.monitors:  # privacy requests, and privacy tickets on the same legal clock
                for flag, count in (await monitor()).items():
                    flagged[flag] += count
            self._last_monitor = now
        counts = {
            **jobs,
            **matched,
            "policy_notices_sent": notices,
            "marketing_mail_sent": marketing,
            **mail,
            "retention_applied": swept,
            **flagged,
        }
        counts["marketing_mail_sent"] = marketing
        log.info("data_rights_pass_finished", **counts)
        return counts

    async def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # a pass that fails is logged and retried at the next tick
                log.error("data_rights_pass_failed", error_type=type(exc).__name__)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue
        log.info("privacy_worker_stopped")

    def stop(self) -> None:
        self._stop.set()


async def run_privacy_queue(container: Container, runner: DataRightsRunner) -> None:
    """Production: SAQ's worker runs the privacy queue (exports, erasures, the deadline monitor's cron job) and the
    runner's timer does the rest; SIGTERM or Ctrl-C stops SAQ's worker (its own handlers), then the timer."""
    from dreamina.adapters.queue.saq_queue import SaqJobQueue
    from dreamina.adapters.queue.saq_worker import make_privacy_worker

    queue = container.data_rights.job_queue
    assert isinstance(queue, SaqJobQueue)
    worker = make_privacy_worker(queue, container.data_rights.jobs, container.monitors)
    timer = asyncio.create_task(runner.run_forever(), name="privacy-worker-timer")
    try:
        await worker.start()
    finally:
        runner.stop()
        await timer
