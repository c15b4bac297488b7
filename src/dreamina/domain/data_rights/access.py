"""The access report (GDPR Art. 15): what we hold, why, from where, who received it, how long, and your rights."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from dreamina.domain.data_rights.requests import PrivacyRequests
from dreamina.domain.privacy.datamap import DataMap
from dreamina.domain.privacy.errors import NotFound
from dreamina.domain.privacy.improvement import improvement_allowed
from dreamina.domain.privacy.jurisdictions import JurisdictionTable
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.data_rights import PersonalDataHolder, RequestStatus, RequestType
from dreamina.ports.unit_of_work import UnitOfWorkFactory

SOURCES: dict[str, str] = {
    DataCategory.ACCOUNT.value: "provided by you at sign-up, in your profile and in your requests",
    DataCategory.CONTENT.value: "uploaded by you, or generated for you from your prompts",
    DataCategory.USAGE.value: "collected when you use the service",
    DataCategory.TECHNICAL.value: "collected automatically from your device and sessions",
    DataCategory.PAYMENT.value: "provided by you through our payment processor's checkout",
}


async def access_report(
    subject_id: UUID,
    *,
    uow: UnitOfWorkFactory,
    holders: Sequence[PersonalDataHolder],
    data_map: DataMap,
    jurisdictions: JurisdictionTable,
) -> dict[str, Any]:
    """Build the report from what each holder counts for the subject and what the data map declares."""
    async with uow() as unit:
        account = await unit.accounts.get(subject_id)
        if account is None:
            raise NotFound("account not found")
        disclosures = await unit.disclosures.groups_for_subject(subject_id)
        chosen = await unit.improvement_choices.latest_for_subject(subject_id)
        improvement = {
            "chosen": chosen is not None and chosen.allowed,
            "allowed": await improvement_allowed(unit, subject_id),
            "default": False,
            "control": "/v1/me/improvement",
        }
    rule = jurisdictions.resolve(account.country, account.region)

    held: list[dict[str, Any]] = []
    for holder in holders:
        for name, count in (await holder.count(subject_id)).items():
            if count <= 0:
                continue
            if name in data_map.stores:
                store = data_map.stores[name]
                fields = [
                    {
                        "field": field_name,
                        "category": f.category.value,
                        "purposes": [p.value for p in f.purposes],
                        "legal_basis": f.legal_basis.value,
                        "retention": f.retention.description,
                    }
                    for field_name, f in store.fields.items()
                    if f.personal
                ]
                held.append({"store": name, "description": store.description, "records": count, "fields": fields})
            else:
                prefix = next(p for p in data_map.object_prefixes if p.prefix == name)
                held.append(
                    {
                        "store": name,
                        "description": prefix.description,
                        "records": count,
                        "fields": [
                            {
                                "field": "files",
                                "category": prefix.category.value,
                                "purposes": [p.value for p in prefix.purposes],
                                "legal_basis": "contract",
                                "retention": prefix.retention.description,
                            }
                        ],
                    }
                )
    categories = sorted({f["category"] for entry in held for f in entry["fields"]})
    purposes = sorted({p for entry in held for f in entry["fields"] for p in f["purposes"]})

    registry = {p.id: p for p in data_map.processors}
    recipients: dict[str, dict[str, Any]] = {}
    for d in disclosures:  # grouped by processor, purpose and categories: a processor's groups are merged here
        entry = recipients.setdefault(
            d.processor,
            {
                "processor": d.processor,
                "name": registry[d.processor].name if d.processor in registry else d.processor,
                "location": registry[d.processor].location if d.processor in registry else None,
                "categories": set(),
                "purposes": set(),
                "first": d.first,
                "last": d.last,
                "disclosures": 0,
                "improvement_allowed": 0,
            },
        )
        entry["categories"].update(d.categories)
        entry["purposes"].add(d.purpose)
        entry["first"] = min(entry["first"], d.first)
        entry["last"] = max(entry["last"], d.last)
        entry["disclosures"] += d.count
        entry["improvement_allowed"] += d.improvement_allowed
    processors = [
        {
            **e,
            "categories": sorted(e["categories"]),
            "purposes": sorted(e["purposes"]),
            "first": e["first"].isoformat(),
            "last": e["last"].isoformat(),
        }
        for e in sorted(recipients.values(), key=lambda e: (e["first"], e["processor"]))  # first recipient first
    ]
    return {
        "subject_id": str(subject_id),
        "categories": categories,
        "purposes": purposes,
        "sources": {c: SOURCES[c] for c in categories if c in SOURCES},
        "held": held,
        "processors_received": processors,
        "content_for_improvement": improvement,
        "retention": {entry["store"]: sorted({f["retention"] for f in entry["fields"]}) for entry in held},
        "automated_decision_making": "none: no decision with legal or similarly significant effects is automated",
        "rights": {
            "jurisdiction": rule.code,
            "regime": rule.regime,
            "rights": list(rule.rights),
            "response_within": {"unit": rule.response.unit, "amount": rule.response.amount},
            "complaint": "you may lodge a complaint with your data-protection supervisory authority",
        },
    }


class AccessReports:
    """The access report of a completed access request, shown only to the subject who made it."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        requests: PrivacyRequests,
        holders: Sequence[PersonalDataHolder],
        data_map: DataMap,
        jurisdictions: JurisdictionTable,
    ) -> None:
        self._uow = uow
        self._requests = requests
        self._holders = tuple(holders)
        self._data_map = data_map
        self._jurisdictions = jurisdictions

    async def for_request(self, subject_id: UUID, request_id: UUID) -> dict[str, Any]:
        view = await self._requests.view(subject_id, request_id)
        if view.request.type != RequestType.ACCESS or view.request.status != RequestStatus.COMPLETED:
            raise NotFound("no access report for this request")
        return await self.for_subject(subject_id)

    async def for_subject(self, subject_id: UUID) -> dict[str, Any]:
        """The subject's report as their data stands now (a completed access request's report is built when asked)."""
        return await access_report(
            subject_id, uow=self._uow, holders=self._holders, data_map=self._data_map, jurisdictions=self._jurisdictions
        )
