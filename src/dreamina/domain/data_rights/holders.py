"""Holders of personal data the data-rights module owns: its own stores, the object store prefixes, the data key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.unit_of_work import UnitOfWorkFactory

DATA_RIGHTS_HOLDER = "data_rights"


class DataRightsPersonalData:
    """Requests, their history and jobs, and restrictions. The erasure saga runs this holder last,
    after its completion record, because the saga's own progress lives in ``privacy_jobs``."""

    name = DATA_RIGHTS_HOLDER
    stage = ErasureStage.REQUEST_RECORDS
    coverage: tuple[Coverage, ...] = (
        Coverage("store", "privacy_requests", "requests.json (details decrypted, with history)", "deleted last"),
        Coverage("store", "privacy_request_events", "requests.json (each request's history)", "deleted last"),
        Coverage(
            "store",
            "privacy_jobs",
            "not exported: job progress (the archive is the export); outcomes are in requests.json",
            "deleted last",
        ),
        Coverage(
            "store",
            "erasure_completions",
            "not exported: names nobody (random id, counts)",
            "untouched: names nobody",
        ),
        Coverage("store", "processing_restrictions", "restrictions.json", "deleted"),
        Coverage(
            "store",
            "processor_notifications",
            "not exported: names nobody (processor, method, outcome)",
            "untouched: names nobody",
        ),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, keyrings: Keyrings) -> None:
        self._uow = uow
        self._keyrings = keyrings

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            requests = await uow.privacy_requests.list_for_subject(subject_id)
            return {
                "privacy_requests": len(requests),
                "processing_restrictions": int(await uow.restrictions.is_restricted(subject_id)),
            }

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        async with self._uow() as uow:
            keyring = self._keyrings(uow.subject_keys)
            requests: list[dict[str, Any]] = []
            for r in await uow.privacy_requests.list_for_subject(subject_id):
                details: Any = None
                if r.details_ciphertext is not None:
                    try:
                        details = json.loads(await keyring.open(subject_id, "privacy_request", r.details_ciphertext))
                    except KeyDestroyed:
                        details = None
                history = await uow.privacy_request_events.list_for_request(r.id)
                requests.append(
                    {
                        "id": str(r.id),
                        "type": r.type,
                        "status": r.status,
                        "received_at": r.received_at.isoformat(),
                        "due_at": r.due_at.isoformat(),
                        "jurisdiction": r.jurisdiction,
                        "extension_reason": r.extension_reason,
                        "details": details,
                        "outcome": r.outcome,
                        "history": [
                            {
                                "status": e.status,
                                "actor_kind": e.actor_kind,
                                "note": e.note,
                                "occurred_at": e.occurred_at.isoformat(),
                            }
                            for e in history
                        ],
                    }
                )
            restriction = await uow.restrictions.get(subject_id)
            restrictions = (
                []
                if restriction is None
                else [{"restricted_at": restriction.restricted_at.isoformat(), "reason": restriction.reason}]
            )
        await sink.write_records("requests", "your privacy requests, what was done and their history", requests)
        await sink.write_records("restrictions", "whether you restricted processing of your data", restrictions)

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        async with self._uow() as uow:
            deleted = await uow.privacy_request_events.delete_for_subject(subject_id)
            deleted += await uow.privacy_requests.delete_for_subject(subject_id)
            deleted += await uow.privacy_jobs.delete_for_subject(subject_id)
            deleted += await uow.restrictions.delete_for_subject(subject_id)
            await uow.commit()
        return ErasureOutcome(self.name, deleted=deleted)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []


class SubjectObjects:
    """The subject's objects: ``<prefix><subject id>/...`` under each declared prefix.

    Uploads and outputs are exported as the original files; earlier export archives are not put into new ones.
    Erasure also aborts the unfinished uploads under each folder (a worker killed while writing an export or an
    output leaves parts that no listing shows but that hold the subject's data).
    """

    name = "objects"
    stage = ErasureStage.OBJECTS

    def __init__(self, store: ObjectStore, *, exported: tuple[str, ...], not_exported: tuple[str, ...]) -> None:
        self._store = store
        self._exported = exported
        self._not_exported = not_exported
        erasure = "every object and unfinished upload under the subject's folder"
        self.coverage: tuple[Coverage, ...] = tuple(
            Coverage("prefix", p, f"files/{p}<name> (the original files)", erasure) for p in exported
        ) + tuple(Coverage("prefix", p, "not exported: earlier export archives", erasure) for p in not_exported)

    @staticmethod
    def folder(prefix: str, subject_id: UUID) -> str:
        return f"{prefix}{subject_id}"

    async def count(self, subject_id: UUID) -> dict[str, int]:
        return {
            p: len(await self._store.list(self.folder(p, subject_id))) for p in (*self._exported, *self._not_exported)
        }

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        for prefix in self._exported:
            folder = self.folder(prefix, subject_id)
            for key in await self._store.list(folder):
                name = key[len(folder) + 1 :]
                await sink.write_file(f"{prefix}{name}", f"original file from {prefix}", self._chunks(key))

    async def _chunks(self, key: str) -> AsyncIterator[bytes]:
        async for chunk in await self._store.stream(key):
            yield chunk

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        deleted = 0
        for prefix in (*self._exported, *self._not_exported):
            folder = self.folder(prefix, subject_id)
            deleted += await self._store.abort_incomplete(folder)  # first: an upload completing later is an object
            deleted += await self._store.delete_prefix(folder)
        return ErasureOutcome(self.name, deleted=deleted)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []


class SubjectDataKey:
    """The subject's data key: crypto-shredded (destroyed), then its keyless row removed."""

    name = "subject_key"
    stage = ErasureStage.DATA_KEY
    coverage: tuple[Coverage, ...] = (
        Coverage(
            "store",
            "subject_keys",
            "not exported: key material",
            "destroyed (crypto-shredding every sealed copy, backups included), then the row deleted",
        ),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, keyrings: Keyrings) -> None:
        self._uow = uow
        self._keyrings = keyrings

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            return {"subject_keys": int(await uow.subject_keys.get(subject_id) is not None)}

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        return None

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        async with self._uow() as uow:
            keyring = self._keyrings(uow.subject_keys)
            await keyring.destroy(subject_id)
            removed = await uow.subject_keys.delete(subject_id)
            await uow.commit()
        return ErasureOutcome(self.name, deleted=int(removed))

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []


class SubjectMail:
    """Mail about the subject still waiting in the outbox (seconds, unless the relay is down)."""

    name = "mail"
    stage = ErasureStage.MODULE_RECORDS  # after the saga's notice to the subject was queued, before the data key
    coverage: tuple[Coverage, ...] = (
        Coverage(
            "store",
            "mail_outbox",
            "not exported: messages wait there only until delivered, and you receive them",
            "due messages are delivered first (the notice that the erasure runs among them), the rest deleted",
        ),
        Coverage(
            "store",
            "mail_outbox_folder",
            "not exported: mail you were sent (embedded profile: the folder stands in for your mailbox)",
            "delivered mail is the recipient's, like mail a relay handed over: left to its 7-day sweep",
        ),
    )

    def __init__(self, mail: MailDelivery) -> None:
        self._mail = mail

    async def count(self, subject_id: UUID) -> dict[str, int]:
        return {"mail_outbox": await self._mail.count_for_subject(subject_id)}

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        return None

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        return ErasureOutcome(self.name, deleted=await self._mail.erase_subject(subject_id))

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []  # the delivery service keeps logs only (declared with the processor)


class SubjectKeptAnswers:
    """Answers kept for the subject's requests sent with an Idempotency-Key (a day at most)."""

    name = "kept_answers"
    stage = ErasureStage.MODULE_RECORDS
    coverage: tuple[Coverage, ...] = (
        Coverage(
            "store",
            "idempotency_records",
            "not exported: copies of answers you already received, kept a day for retries",
            "deleted",
        ),
    )

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            return {"idempotency_records": await uow.idempotency_records.count_for_subject(subject_id)}

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        return None

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        async with self._uow() as uow:
            deleted = await uow.idempotency_records.delete_for_subject(subject_id)
            await uow.commit()
        return ErasureOutcome(self.name, deleted=deleted)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []
