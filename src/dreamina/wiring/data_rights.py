"""Wiring unit of the data-rights module: the six rights as requests on a legal clock, their export and erasure
jobs, and every module's holder of personal data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from dreamina.adapters.memory import data_rights as memory_data_rights
from dreamina.adapters.memory import processor_notices as memory_processor_notices
from dreamina.adapters.sql import repositories_data_rights, repositories_processor_notices
from dreamina.domain.data_rights.access import AccessReports
from dreamina.domain.data_rights.data_map import DATA_RIGHTS_DATA
from dreamina.domain.data_rights.deadlines import DeadlineMonitor
from dreamina.domain.data_rights.downloads import ExportDownloads
from dreamina.domain.data_rights.fulfilment import Fulfilment
from dreamina.domain.data_rights.holders import (
    DataRightsPersonalData,
    SubjectDataKey,
    SubjectKeptAnswers,
    SubjectMail,
    SubjectObjects,
)
from dreamina.domain.data_rights.jobs import DataRightsJobs, JobRules
from dreamina.domain.data_rights.notices import RequestNotices
from dreamina.domain.data_rights.processor_notices import NoticeRules, ProcessorNotices
from dreamina.domain.data_rights.queue import PrivacyRequestQueue
from dreamina.domain.data_rights.records import RequestRecords, RequestRules
from dreamina.domain.data_rights.requests import PrivacyRequests
from dreamina.domain.data_rights.retention import ClosedRequestRecords, ExpiredExportArchives, ExpiredIdentityCodes
from dreamina.domain.privacy.datamap import DataMap
from dreamina.ports.data_rights import PersonalDataHolder, ProcessorEraser, ProfileCorrections
from dreamina.ports.generation import JobQueue
from dreamina.ports.processor_notices import WebhookSender
from dreamina.settings import Settings, processor_routes
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, Hook, ModuleParts

if TYPE_CHECKING:
    from dreamina.adapters.queue.in_process import InProcessJobQueue

PRIVACY_REAPER_SECONDS = 5.0  # how often the embedded profile queues due exports and erasures its queue does not hold

PARTS = ModuleParts(
    name="data_rights",
    data=DATA_RIGHTS_DATA,
    sql={**repositories_data_rights.REPOSITORIES, **repositories_processor_notices.REPOSITORIES},
    memory=(memory_data_rights.STORES, memory_processor_notices.STORES),
)


@dataclass(frozen=True, slots=True)
class DataRightsModule:
    """The data-rights module: the subject's requests, the staff queue, the deadline monitor, the jobs that carry out
    exports and erasures, and every module's holder of personal data (in erasure order)."""

    requests: PrivacyRequests  # the subject's side: submit, verify, cancel, view
    queue: PrivacyRequestQueue  # the staff's side: queue, views, decisions, expedited and child-report erasures
    deadlines: DeadlineMonitor
    access_reports: AccessReports
    downloads: ExportDownloads
    jobs: DataRightsJobs
    job_queue: JobQueue | None  # where exports and erasures are queued: SAQ, or in this process (None: tests run them)
    reap_jobs: Callable[[], Awaitable[int]]  # queue every due job the queue does not hold (the reaper's one pass)
    holders: tuple[PersonalDataHolder, ...]
    erasers: Mapping[str, ProcessorEraser]
    processor_notices: ProcessorNotices  # what each processor was told about an erasure (staff list them)
    child_erasure: DataRightsChildErasure  # what the children's flow is given
    contributes: Contributions


class DataRightsChildErasure:
    """:class:`~dreamina.ports.child_reports.ChildErasure` by :meth:`PrivacyRequestQueue.create_for_child_report`:
    an erasure due at once, run by the data-rights worker's saga like any other."""

    def __init__(self, queue: PrivacyRequestQueue) -> None:
        self._queue = queue

    async def erase_now(self, staff_id: UUID, subject_id: UUID, reason: str) -> UUID:
        return (await self._queue.create_for_child_report(staff_id, subject_id, reason)).id


def wire_data_rights(
    infra: Infrastructure,
    *,
    holders: Sequence[PersonalDataHolder],
    erasers: Mapping[str, ProcessorEraser],
    corrections: ProfileCorrections,
    data_map: DataMap,
    webhooks: WebhookSender | None = None,
    job_queue: JobQueue | None = None,
    run_jobs: bool = True,
) -> DataRightsModule:
    """``holders``: every other module's; this module adds the subject's objects, data key and its own records.
    Exports and erasures are queued on ``job_queue`` if given, else (``run_jobs``) on the settings' queue (SAQ, or
    this process's); with neither, only ``jobs.run_due`` runs them."""
    from dreamina.adapters.export_zip import ZipExportArchive

    uow, vault, keyrings, clock = infra.uow, infra.vault, infra.keyrings, infra.clock
    rules = RequestRules()
    records = RequestRecords(keyrings)
    notices = RequestNotices(infra.mail, rules.code_ttl)
    in_process: InProcessJobQueue | None = None
    queue_closers: tuple[Hook, ...] = ()
    if job_queue is None and run_jobs:
        job_queue, in_process, queue_closers = _job_queue(infra.settings)
    fulfilment = Fulfilment(
        records=records, vault=vault, clock=clock, erasure_grace=rules.erasure_grace, queue=job_queue
    )
    requests = PrivacyRequests(
        uow=uow,
        records=records,
        fulfilment=fulfilment,
        notices=notices,
        vault=vault,
        passwords=infra.passwords,
        clock=clock,
        jurisdictions=infra.jurisdictions,
        corrections=corrections,
        rules=rules,
        checks=infra.secret_checks,
    )
    queue = PrivacyRequestQueue(
        uow=uow,
        records=records,
        fulfilment=fulfilment,
        notices=notices,
        clock=clock,
        jurisdictions=infra.jurisdictions,
        rules=rules,
    )
    deadlines = DeadlineMonitor(uow=uow, records=records, clock=clock)
    own: tuple[PersonalDataHolder, ...] = (
        SubjectObjects(infra.object_store, exported=("uploads/", "outputs/"), not_exported=("exports/",)),
        SubjectDataKey(uow=uow, keyrings=keyrings),
        DataRightsPersonalData(uow=uow, keyrings=keyrings),
        SubjectMail(infra.mail),
        SubjectKeptAnswers(uow),
    )
    processor_notices, closers = _processor_notices(infra, erasers, webhooks)
    jobs = DataRightsJobs(
        uow=uow,
        records=records,
        fulfilment=fulfilment,
        notices=notices,
        holders=(*holders, *own),
        archive=ZipExportArchive(infra.object_store),
        processor_notices=processor_notices,
        clock=clock,
        rules=JobRules(lease=timedelta(seconds=infra.settings.job_lease_seconds)),
        queue=job_queue,
    )
    workers: tuple[Hook, ...] = ()
    if in_process is not None:
        from dreamina.adapters.periodic import Periodic

        worker = in_process
        reaper = Periodic("privacy_jobs_reaper", PRIVACY_REAPER_SECONDS, lambda: jobs.enqueue_due(worker.holds))

        async def start_jobs() -> None:
            await worker.start(jobs.run_queued)
            await reaper.start()  # the jobs due while this process was down are queued at its first tick

        async def stop_jobs() -> None:
            await reaper.stop()
            await worker.stop()

        workers, queue_closers = (start_jobs,), (stop_jobs,)
    return DataRightsModule(
        requests=requests,
        queue=queue,
        deadlines=deadlines,
        access_reports=AccessReports(
            uow=uow, requests=requests, holders=jobs.holders, data_map=data_map, jurisdictions=infra.jurisdictions
        ),
        downloads=ExportDownloads(requests, infra.object_store),
        jobs=jobs,
        job_queue=job_queue,
        reap_jobs=_reaper(jobs, job_queue),
        holders=jobs.holders,
        erasers=erasers,
        processor_notices=processor_notices,
        child_erasure=DataRightsChildErasure(queue),
        contributes=Contributions(
            retention=(
                ExpiredIdentityCodes(uow),
                ExpiredExportArchives(uow, infra.object_store),
                ClosedRequestRecords(uow),
            ),
            monitors=(deadlines.flag_deadlines,),
            workers=workers,
            closers=(*queue_closers, *closers),
        ),
    )


def _reaper(jobs: DataRightsJobs, queue: JobQueue | None) -> Callable[[], Awaitable[int]]:
    """One pass of the reaper, leaving alone what a queue in this process holds (SAQ's worker asks Redis)."""
    holds: Callable[[UUID], bool] | None = getattr(queue, "holds", None)
    if holds is None:
        return jobs.enqueue_due
    return lambda: jobs.enqueue_due(holds)


def _job_queue(settings: Settings) -> tuple[JobQueue, InProcessJobQueue | None, tuple[Hook, ...]]:
    """SAQ's privacy queue (``dreamina privacy-worker`` runs it), or a queue in this process (the embedded profile:
    one job at a time, beside the generation jobs); and what closes it."""
    if settings.queue == "saq":
        from dreamina.adapters.queue.saq_queue import privacy_queue

        saq = privacy_queue(settings.redis_url, lease_seconds=settings.job_lease_seconds)
        return saq, None, (saq.aclose,)
    from dreamina.adapters.queue.in_process import InProcessJobQueue

    return (queue := InProcessJobQueue(concurrency=1, kind="privacy")), queue, ()


def _processor_notices(
    infra: Infrastructure, erasers: Mapping[str, ProcessorEraser], webhooks: WebhookSender | None
) -> tuple[ProcessorNotices, tuple[Hook, ...]]:
    """How each processor is told about an erasure (the production profile's settings refuse an image provider
    without a route; any other processor without API or route is given up at once, so staff see it)."""
    settings = infra.settings
    routes = processor_routes(settings)
    closers: tuple[Hook, ...] = ()
    if webhooks is None:
        from dreamina.adapters.webhooks import HttpWebhookSender

        sender = HttpWebhookSender(infra.clock)
        closers, webhooks = (sender.aclose,), sender
    notices = ProcessorNotices(
        uow=infra.uow,
        erasers=erasers,
        routes=routes,
        webhooks=webhooks,
        mail=infra.mail,
        clock=infra.clock,
        rules=NoticeRules(
            max_attempts=settings.processor_notice_max_attempts,
            max_age=timedelta(hours=settings.processor_notice_max_age_hours),
            first_retry=timedelta(seconds=settings.processor_notice_first_retry_seconds),
            longest_retry=timedelta(seconds=settings.processor_notice_longest_retry_seconds),
        ),
    )
    return notices, closers
