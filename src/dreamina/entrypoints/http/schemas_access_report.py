"""The access report (GDPR Art. 15) as the API sends it: what is held and in which stores, why, on which legal
basis, from where, who received it, how long it is kept, the improvement setting, and the subject's rights.

:func:`dreamina.domain.data_rights.access.access_report` builds it; :func:`access_report_out` checks it against
these types member for member (an unknown member is an error, not something dropped)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from dreamina.domain.data_rights.access import SOURCES
from dreamina.domain.privacy.jurisdictions import DeadlineUnit
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose


class _Report(msgspec.Struct, forbid_unknown_fields=True):
    pass


class HeldField(_Report):
    field: Annotated[str, Meta(description="the field held (`files` for stored objects)")]
    category: DataCategory
    purposes: list[Purpose]
    legal_basis: LegalBasis
    retention: Annotated[str, Meta(description="how long it is kept")]


class HeldStore(_Report):
    store: Annotated[str, Meta(description="where it is held: a table, or a prefix of the object store")]
    description: str
    records: Annotated[int, Meta(ge=1, description="how many records (or files) of yours it holds")]
    fields: list[HeldField]


class Sources(_Report, kw_only=True):
    """Where each category of your data came from (only the categories held)."""

    account: str | msgspec.UnsetType = msgspec.UNSET
    content: str | msgspec.UnsetType = msgspec.UNSET
    usage: str | msgspec.UnsetType = msgspec.UNSET
    technical: str | msgspec.UnsetType = msgspec.UNSET
    payment: str | msgspec.UnsetType = msgspec.UNSET


assert set(Sources.__struct_fields__) == set(SOURCES)


class ProcessorReceived(_Report):
    """A processor that received your data (from the disclosure ledger)."""

    processor: Annotated[str, Meta(description="the processor's id, as `GET /v1/privacy/processors` lists it")]
    name: str
    location: str | None
    categories: list[DataCategory]
    purposes: list[Purpose]
    first: Annotated[datetime, Meta(description="the first hand-over")]
    last: Annotated[datetime, Meta(description="the latest hand-over")]
    disclosures: Annotated[int, Meta(ge=1, description="how many hand-overs")]
    improvement_allowed: Annotated[
        int, Meta(ge=0, description="of them, how many with your content allowed for improvement")
    ]


class ImprovementSetting(_Report):
    """Whether your content may be used to improve the service."""

    chosen: Annotated[bool, Meta(description="what you chose (false if you never chose)")]
    allowed: Annotated[bool, Meta(description="whether it is allowed now (an objection turns it off)")]
    default: Annotated[bool, Meta(description="the setting of someone who never chose")]
    control: Annotated[str, Meta(description="the path where you change it")]


class ResponseWithin(_Report):
    unit: DeadlineUnit
    amount: Annotated[int, Meta(description="null where the law sets no figure")] | None


class Rights(_Report):
    """Your rights where you live, and how soon a request is answered."""

    jurisdiction: str
    regime: str
    rights: list[str]
    response_within: ResponseWithin
    complaint: str


class AccessReport(_Report):
    subject_id: UUID
    categories: list[DataCategory]
    purposes: list[Purpose]
    sources: Sources
    held: list[HeldStore]
    processors_received: list[ProcessorReceived]
    content_for_improvement: ImprovementSetting
    retention: Annotated[dict[str, list[str]], Meta(description="per store held, how long its data are kept")]
    automated_decision_making: str
    rights: Rights


def access_report_out(report: dict[str, Any]) -> AccessReport:
    """The domain's report as :class:`AccessReport` (``msgspec.ValidationError`` when they disagree)."""
    return msgspec.convert(report, AccessReport)
