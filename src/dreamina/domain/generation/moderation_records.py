"""Moderation records for the data-rights engine (access, export, erasure) and the retention sweep (G7)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from dreamina.domain.generation.moderation_data import MODERATION_DATA
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.unit_of_work import UnitOfWorkFactory


def _declared_days(store: str, field: str) -> int:
    """The period the data map declares: the schedule is the declaration, not a second constant."""
    days = MODERATION_DATA.field(store, field).retention.days
    if days is None:
        raise LookupError(f"the data map declares no retention period for {store}.{field}")
    return days


RECORD_DAYS = _declared_days("moderation_records", "occurred_at")
REVIEW_DAYS = _declared_days("moderation_reviews", "opened_at")


class ModerationPersonalData:
    """:class:`~dreamina.ports.data_rights.PersonalDataHolder` for the moderation stores. Erasure deletes both (no
    legal hold); an open review goes with them, so nothing of the subject's is left in the staff queue."""

    name = "moderation"
    stage = ErasureStage.MODULE_RECORDS
    coverage: tuple[Coverage, ...] = (
        Coverage("store", "moderation_records", "moderation_refusals.json (never the refused input)", "deleted"),
        Coverage("store", "moderation_reviews", "moderation_reviews.json", "deleted"),
    )

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            return {
                "moderation_records": len(await uow.moderation_records.for_subject(subject_id)),
                "moderation_reviews": len(await uow.moderation_reviews.for_subject(subject_id)),
            }

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        async with self._uow() as uow:
            records = [
                {
                    "checked": r.checked.value,
                    "category": r.category,
                    "input_hmac": r.input_hmac,
                    "occurred_at": r.occurred_at.isoformat(),
                }
                for r in await uow.moderation_records.for_subject(subject_id)
            ]
            reviews = [
                {
                    "status": r.status.value,
                    "refusals": r.refusals,
                    "opened_at": r.opened_at.isoformat(),
                    "closed_at": None if r.closed_at is None else r.closed_at.isoformat(),
                }
                for r in await uow.moderation_reviews.for_subject(subject_id)
            ]
        await sink.write_records(
            "moderation_refusals",
            "prompts and images our content checks refused: what was checked, why and when, and a keyed hash of the "
            "input (the input itself is not kept; passes are not recorded)",
            records,
        )
        await sink.write_records("moderation_reviews", "reviews of your account opened by repeated refusals", reviews)

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        async with self._uow() as uow:
            deleted = await uow.moderation_records.delete_for_subject(subject_id)
            deleted += await uow.moderation_reviews.delete_for_subject(subject_id)
            await uow.commit()
        return ErasureOutcome(self.name, deleted=deleted)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []  # the moderation vendor keeps no object we could name; its own 30-day retention applies


class ExpiredModerationRecords:
    """Deletes refusal records a year after the refusal (data map: ``moderation_records``)."""

    name = "moderation_records.expired"
    category = DataCategory.USAGE
    description = f"a content-moderation refusal record is deleted {RECORD_DAYS} days after the refusal"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.moderation_records.count_older(now - timedelta(days=RECORD_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.moderation_records.delete_older(now - timedelta(days=RECORD_DAYS), limit)
            await uow.commit()
        return deleted


class ClosedModerationReviews:
    """Deletes closed moderation reviews a year after they were closed (data map: ``moderation_reviews``)."""

    name = "moderation_reviews.closed"
    category = DataCategory.USAGE
    description = f"a closed moderation review is deleted {REVIEW_DAYS} days after it was closed"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.moderation_reviews.count_closed_before(now - timedelta(days=REVIEW_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.moderation_reviews.delete_closed_before(now - timedelta(days=REVIEW_DAYS), limit)
            await uow.commit()
        return deleted
