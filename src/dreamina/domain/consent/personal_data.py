"""The consent module's holder of personal data: consent history, objections, improvement choices, policy notices,
analytics events and staff roles, for the data-rights engine's access, export and erasure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dreamina.domain.consent.analytics import subject_pseudonyms
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.keys import KeyVault
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ConsentPersonalData:
    """:class:`~dreamina.ports.data_rights.PersonalDataHolder` for the consent module's stores.

    Analytics events carry no subject id, only a pseudonym that rotates daily; the holder recomputes every pseudonym
    the subject can have had within the retention period, so their events are exported and erased all the same.
    Device-only consent records stay: they are keyed by a hash of a browser cookie, not by the subject.
    """

    name = "consent"
    stage = ErasureStage.MODULE_RECORDS
    coverage: tuple[Coverage, ...] = (
        Coverage("store", "consent_records", "consents.json (every choice, method and policy version)", "deleted"),
        Coverage("store", "objections", "objections.json", "deleted"),
        Coverage("store", "improvement_choices", "improvement_choices.json (every choice, how made)", "deleted"),
        Coverage("store", "policy_notices", "policy_notices.json", "deleted"),
        Coverage("store", "analytics_events", "analytics_events.json (your events, found by pseudonym)", "deleted"),
        Coverage("store", "staff_members", "staff_role.json", "deleted"),
        Coverage(
            "store",
            "marketing_campaigns",
            "not exported: a campaign names nobody (the marketing mail you got is in the mail you received)",
            "a sending campaign's cursor resting on your account moves off it",
        ),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, vault: KeyVault, clock: Clock) -> None:
        self._uow = uow
        self._vault = vault
        self._clock = clock

    def _pseudonyms(self, subject_id: UUID) -> list[str]:
        return subject_pseudonyms(self._vault, subject_id, self._clock.now().date())

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            return {
                "consent_records": await uow.consent_records.count_for_subject(subject_id),
                "objections": len(await uow.objections.for_subject(subject_id)),
                "improvement_choices": len(await uow.improvement_choices.history_for_subject(subject_id)),
                "policy_notices": len(await uow.policy_notices.for_subject(subject_id)),
                "analytics_events": await uow.analytics_events.count_pseudonyms(self._pseudonyms(subject_id)),
                "staff_members": int(await uow.staff.get(subject_id) is not None),
            }

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        async with self._uow() as uow:
            consents: list[dict[str, Any]] = [
                {
                    "functional": r.functional,
                    "analytics": r.analytics,
                    "marketing": r.marketing,
                    "sale_share_opt_out": r.sale_share_opt_out,
                    "gpc": r.gpc,
                    "method": r.method.value,
                    "policy_version": r.policy_version,
                    "policy_sha256": r.content_sha256,
                    "recorded_at": r.recorded_at.isoformat(),
                }
                for r in await uow.consent_records.history_for_subject(subject_id)
            ]
            objections = [
                {"purpose": o.purpose.value, "objected": o.objected, "updated_at": o.updated_at.isoformat()}
                for o in await uow.objections.for_subject(subject_id)
            ]
            improvement = [
                {
                    "allowed": c.allowed,
                    "method": c.method.value,
                    "policy_version": c.policy_version,
                    "policy_sha256": c.content_sha256,
                    "recorded_at": c.recorded_at.isoformat(),
                }
                for c in await uow.improvement_choices.history_for_subject(subject_id)
            ]
            notices = [
                {
                    "policy_version": n.policy_version,
                    "effective_at": n.effective_at.isoformat(),
                    "notified_at": n.notified_at.isoformat(),
                    "accepted_at": None if n.resolved_at is None else n.resolved_at.isoformat(),
                }
                for n in await uow.policy_notices.for_subject(subject_id)
            ]
            staff = await uow.staff.get(subject_id)
            events = [
                {
                    "day": e.day.isoformat(),
                    "event": e.name,
                    "page": e.page,
                    "feature": e.feature,
                    "country": e.country,
                    "browser_family": e.browser_family,
                    "device_class": e.device_class,
                }
                for e in await uow.analytics_events.for_pseudonyms(self._pseudonyms(subject_id))
            ]
        await sink.write_records("consents", "your consent choices, how and under which policy version", consents)
        await sink.write_records("objections", "purposes you objected to", objections)
        await sink.write_records(
            "improvement_choices",
            "whether your content may be used to improve the service: every choice, oldest first (off by default)",
            improvement,
        )
        await sink.write_records("policy_notices", "notices of policy changes we sent you", notices)
        await sink.write_records(
            "analytics_events", "privacy-friendly analytics events held under your daily pseudonyms", events
        )
        roles = [] if staff is None else [{"role": staff.role.value, "granted_at": staff.granted_at.isoformat()}]
        await sink.write_records("staff_role", "your staff role, if you work for us", roles)

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        async with self._uow() as uow:
            deleted = await uow.consent_records.delete_for_subject(subject_id)
            deleted += await uow.objections.delete_for_subject(subject_id)
            deleted += await uow.improvement_choices.delete_for_subject(subject_id)
            deleted += await uow.policy_notices.delete_for_subject(subject_id)
            deleted += await uow.analytics_events.delete_pseudonyms(self._pseudonyms(subject_id))
            deleted += int(await uow.staff.remove(subject_id))
            await uow.marketing_campaigns.step_off(subject_id)  # a position, not a record of theirs: not counted
            await uow.commit()
        return ErasureOutcome(self.name, deleted=deleted)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []  # analytics are in-house: no processor received consent or analytics data
