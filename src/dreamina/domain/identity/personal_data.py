"""The identity module's holder of personal data: accounts, sessions, policy acceptances, audit trail, disclosures,
child reports about the subject."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from dreamina.domain.identity.child_report_statement import STATEMENT_FIELD
from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.paging import paged
from dreamina.domain.privacy.pseudonyms import erasure_pseudonym
from dreamina.ports.audit import AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.keys import KeyVault
from dreamina.ports.unit_of_work import UnitOfWorkFactory

PAGE = 500

NOT_SUBJECT_DATA = "holds no data about any subject (the published policy texts)"
HOSTING = "hosting"  # holds every store on our behalf; erased with our own copies, no separate call


class IdentityPersonalData:
    """:class:`~dreamina.ports.data_rights.PersonalDataHolder` for the identity module's stores."""

    name = "identity"
    stage = ErasureStage.AUDIT_TRAIL
    coverage: tuple[Coverage, ...] = (
        Coverage("store", "accounts", "account.json (email, display name, birth date decrypted)", "deleted"),
        Coverage("store", "auth_sessions", "sessions.json (times only; token hashes are not exported)", "deleted"),
        Coverage("store", "policy_acceptances", "policy_acceptances.json", "deleted"),
        Coverage(
            "store",
            "account_tokens",
            "not exported: one-time secrets (only their hashes are stored) that expire within 7 days",
            "deleted",
        ),
        Coverage(
            "store",
            "audit_events",
            "audit_events.json",
            "pseudonymised legal hold: the subject's id becomes a keyed pseudonym, free-text reasons are dropped",
            pseudonymised_legal_hold=True,
        ),
        Coverage(
            "store",
            "disclosures",
            "disclosures.json",
            "pseudonymised legal hold: the subject's id becomes a keyed pseudonym, the processor reference is dropped",
            pseudonymised_legal_hold=True,
        ),
        Coverage("store", "policy_versions", "not exported: " + NOT_SUBJECT_DATA, "untouched: " + NOT_SUBJECT_DATA),
        Coverage("store", "policy_notice_runs", "not exported: " + NOT_SUBJECT_DATA, "untouched: " + NOT_SUBJECT_DATA),
        Coverage(
            "store",
            "child_reports",
            "child_reports.json (when, source, status, your statement to the age review); the reporters' contacts "
            "and details are withheld: they are another person's data",
            "pseudonymised legal hold: the subject's id becomes a keyed pseudonym, the reporters' details (which may "
            "name the child) and the holder's statement are dropped, an open report is closed; the reporters' "
            "contacts go 90 days after closing",
            pseudonymised_legal_hold=True,
        ),
        Coverage(
            "store",
            "child_report_inbox",
            "not exported: a received report is sealed whole and names no account until it is matched, seconds "
            "later (then it is in child_reports)",
            "untouched: nothing in it is linked to an account (sealed whole); matching deletes each entry within "
            "seconds, the retention sweep any left after 7 days",
        ),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, vault: KeyVault, keyrings: Keyrings, clock: Clock) -> None:
        self._uow = uow
        self._vault = vault
        self._keyrings = keyrings
        self._clock = clock

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            return {
                "accounts": int(await uow.accounts.get(subject_id) is not None),
                "policy_acceptances": len(await uow.acceptances.list_for_subject(subject_id)),
                "account_tokens": len(await uow.account_tokens.list_for_account(subject_id)),
                "audit_events": await uow.audit.count_for_subject(subject_id),
                "disclosures": sum(g.count for g in await uow.disclosures.groups_for_subject(subject_id)),
                "child_reports": len(await uow.child_reports.list_for_subject(subject_id)),
            }

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        async with self._uow() as uow:
            keyring = self._keyrings(uow.subject_keys)
            account = await uow.accounts.get(subject_id)
            accounts: list[dict[str, Any]] = []
            if account is not None:
                try:
                    email = await keyring.open(subject_id, "email", account.email_ciphertext)
                    name = (
                        await keyring.open(subject_id, "display_name", account.display_name_ciphertext)
                        if account.display_name_ciphertext
                        else None
                    )
                    birth = date.fromisoformat(
                        await keyring.open(subject_id, "birth_date", account.birth_date_ciphertext)
                    )
                except KeyDestroyed:
                    email, name, birth = None, None, None
                accounts.append(
                    {
                        "id": str(account.id),
                        "email": email,
                        "display_name": name,
                        "birth_date": None if birth is None else birth.isoformat(),
                        "country": account.country,
                        "region": account.region,
                        "status": account.status.value,
                        "email_verified": account.email_verified,
                        "created_at": account.created_at.isoformat(),
                        "updated_at": account.updated_at.isoformat(),
                    }
                )
            acceptances = [
                {
                    "policy_version": a.policy_version,
                    "content_sha256": a.content_sha256,
                    "method": a.method.value,
                    "accepted_at": a.accepted_at.isoformat(),
                }
                for a in await uow.acceptances.list_for_subject(subject_id)
            ]
            child_reports = []
            for r in await uow.child_reports.list_for_subject(subject_id):
                statement = None
                if r.statement_ciphertext is not None:
                    try:
                        statement = await keyring.open(subject_id, STATEMENT_FIELD, r.statement_ciphertext)
                    except KeyDestroyed:
                        statement = None
                child_reports.append(
                    {
                        "received_at": r.received_at.isoformat(),
                        "source": r.source.value,
                        "status": r.status.value,
                        "reports_received": r.reports_received,
                        "closed_at": None if r.closed_at is None else r.closed_at.isoformat(),
                        "your_statement": statement,
                        "statement_at": None if r.statement_at is None else r.statement_at.isoformat(),
                    }
                )
        await sink.write_records("account", "your account: email, display name, birth date, country", accounts)
        await sink.write_records("policy_acceptances", "which privacy-policy versions you accepted, when", acceptances)
        # the two that grow with every generation are streamed a page at a time (bench/history.py)
        await sink.write_records(
            "audit_events", "changes made to your data and by whom (staff names omitted)", self._audit(subject_id)
        )
        await sink.write_records(
            "disclosures", "every hand-off of your data to a processor", self._disclosures(subject_id)
        )
        await sink.write_records(
            "child_reports", "reports that your account belongs to a child (who reported is withheld)", child_reports
        )

    async def _audit(self, subject_id: UUID) -> AsyncIterator[dict[str, Any]]:
        async def fetch(after: tuple[datetime, UUID] | None) -> list[AuditEvent]:
            async with self._uow() as uow:
                return await uow.audit.page_for_subject(subject_id, PAGE, after)

        async for e in paged(fetch, PAGE, _when):
            yield {
                "action": e.action,
                "actor_kind": e.actor_kind,
                "fields": list(e.fields),
                "reason": e.reason if e.actor_kind != "staff" else None,
                "occurred_at": e.occurred_at.isoformat(),
            }

    def _disclosure_page(
        self, subject_id: UUID
    ) -> Callable[[tuple[datetime, UUID] | None], Awaitable[list[Disclosure]]]:
        async def fetch(after: tuple[datetime, UUID] | None) -> list[Disclosure]:
            async with self._uow() as uow:
                return await uow.disclosures.page_for_subject(subject_id, PAGE, after)

        return fetch

    async def _disclosures(self, subject_id: UUID) -> AsyncIterator[dict[str, Any]]:
        async for d in paged(self._disclosure_page(subject_id), PAGE, _when):
            yield {
                "processor": d.processor,
                "categories": list(d.categories),
                "purpose": d.purpose,
                "reference": d.reference,
                "occurred_at": d.occurred_at.isoformat(),
                "improvement_allowed": d.improvement_allowed,
            }

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        pseudonym = erasure_pseudonym(self._vault, subject_id)
        async with self._uow() as uow:
            deleted = await uow.sessions.delete_for_account(subject_id)
            deleted += await uow.account_tokens.delete_for_account(subject_id)
            deleted += await uow.acceptances.delete_for_subject(subject_id)
            deleted += int(await uow.accounts.delete(subject_id))
            pseudonymised = await uow.audit.pseudonymise_subject(subject_id, pseudonym)
            pseudonymised += await uow.disclosures.pseudonymise_subject(subject_id, pseudonym)
            now = self._clock.now()
            for report in await uow.child_reports.list_for_subject(subject_id):
                report.pseudonymise(pseudonym, now)
                await uow.child_reports.update(report)
                pseudonymised += 1
            await uow.commit()
        return ErasureOutcome(self.name, deleted=deleted, pseudonymised=pseudonymised)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        seen: dict[tuple[str, str | None], None] = {}
        async for d in paged(self._disclosure_page(subject_id), PAGE, _when):  # a page in memory at a time
            if d.processor != HOSTING:
                seen.setdefault((d.processor, d.reference), None)
        return [ProcessorReference(processor, reference) for processor, reference in seen]


def _when(record: AuditEvent | Disclosure) -> tuple[datetime, UUID]:
    """A record's place in its subject's history, oldest first: the cursor of the page after it."""
    return record.occurred_at, record.id
