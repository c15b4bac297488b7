"""Wiring unit of the data-rights module: the six rights as requests on a legal clock, their export and erasure
jobs, and every module's holder of personal data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from dreamina.adapters.memory import data_rights as memory_data_rights
from dreamina.adapters.sql import repositories_data_rights
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
from dreamina.domain.data_rights.queue import PrivacyRequestQueue
from dreamina.domain.data_rights.records import RequestRecords, RequestRules
from dreamina.domain.data_rights.requests import PrivacyRequests
from dreamina.domain.data_rights.retention import ClosedRequestRecords, ExpiredExportArchives, ExpiredIdentityCodes
from dreamina.domain.privacy.datamap import DataMap
from dreamina.ports.data_rights import PersonalDataHolder, ProcessorEraser, ProfileCorrections
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, ModuleParts

PARTS = ModuleParts(
    name="data_rights",
    data=DATA_RIGHTS_DATA,
    sql=repositories_data_rights.REPOSITORIES,
    memory=(memory_data_rights.STORES,),
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
    holders: tuple[PersonalDataHolder, ...]
    erasers: Mapping[str, ProcessorEraser]
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
) -> DataRightsModule:
    """``holders``: every other module's; this module adds the subject's objects, data key and its own records."""
    from dreamina.adapters.export_zip import ZipExportArchive

    uow, vault, keyrings, clock = infra.uow, infra.vault, infra.keyrings, infra.clock
    rules = RequestRules()
    records = RequestRecords(keyrings)
    notices = RequestNotices(infra.mail, rules.code_ttl)
    fulfilment = Fulfilment(records=records, vault=vault, clock=clock, erasure_grace=rules.erasure_grace)
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
    jobs = DataRightsJobs(
        uow=uow,
        records=records,
        fulfilment=fulfilment,
        notices=notices,
        holders=(*holders, *own),
        archive=ZipExportArchive(infra.object_store),
        erasers=erasers,
        clock=clock,
        rules=JobRules(lease=timedelta(seconds=infra.settings.job_lease_seconds)),
    )
    return DataRightsModule(
        requests=requests,
        queue=queue,
        deadlines=deadlines,
        access_reports=AccessReports(
            uow=uow, requests=requests, holders=jobs.holders, data_map=data_map, jurisdictions=infra.jurisdictions
        ),
        downloads=ExportDownloads(requests, infra.object_store),
        jobs=jobs,
        holders=jobs.holders,
        erasers=erasers,
        child_erasure=DataRightsChildErasure(queue),
        contributes=Contributions(
            retention=(
                ExpiredIdentityCodes(uow),
                ExpiredExportArchives(uow, infra.object_store),
                ClosedRequestRecords(uow),
            ),
            monitors=(deadlines.flag_deadlines,),
        ),
    )
