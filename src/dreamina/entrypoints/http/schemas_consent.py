"""Request and response bodies of the consent, analytics, transparency and admin routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, cast, get_args
from uuid import UUID

import msgspec
from msgspec import Meta

from dreamina.domain.consent.analytics import EVENT_PROPERTY, FEATURE, MAX_BATCH, PAGE
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.entrypoints.http.texts import stated
from dreamina.ports.consent import OBJECTABLE_PURPOSES, ConsentMethod
from dreamina.ports.policy import AcceptanceMethod, NoticeRunStatus

ObjectablePurpose = Literal["analytics", "marketing", "product_improvement"]
assert set(get_args(ObjectablePurpose)) == {p.value for p in OBJECTABLE_PURPOSES}


def objectable(purpose: Purpose) -> ObjectablePurpose:
    """A stored objection's purpose (always one of the objectable ones)."""
    if purpose.value not in get_args(ObjectablePurpose):
        raise ValueError(f"{purpose} cannot be objected to")
    return cast(ObjectablePurpose, purpose.value)


class ConsentChoiceBody(msgspec.Struct, forbid_unknown_fields=True):
    functional: bool
    analytics: bool
    marketing: bool
    method: Literal["banner", "settings", "api"] = "api"


class ConsentRecordBody(msgspec.Struct):
    id: UUID
    functional: bool
    analytics: bool
    marketing: bool
    sale_share_opt_out: bool
    gpc: bool
    method: ConsentMethod
    policy_version: int
    content_sha256: str
    recorded_at: datetime


class ConsentBody(msgspec.Struct):
    necessary: bool
    functional: bool
    analytics: bool
    marketing: bool
    sale_share_opt_out: bool
    gpc: bool
    method: ConsentMethod | None
    policy_version: int | None
    content_sha256: str | None
    recorded_at: datetime | None
    current_policy_version: int
    under_current_policy: bool
    history: list[ConsentRecordBody]
    """The newest choices first (at most 20); ``history_next`` is the ``before`` cursor of the older ones."""
    history_next: UUID | None


class GpcBody(msgspec.Struct, rename={"last_update": "lastUpdate"}):
    gpc: bool
    last_update: str


class AnalyticsEventBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[
        str, Meta(max_length=32, description="page_view or feature_used"), stated(enum=list(EVENT_PROPERTY))
    ]
    page: (
        Annotated[str, Meta(max_length=200, description="page_view: the path, no query"), stated(pattern=PAGE)] | None
    ) = None
    feature: (
        Annotated[str, Meta(max_length=64, description="feature_used: the feature's name"), stated(pattern=FEATURE)]
        | None
    ) = None


class AnalyticsBatchBody(msgspec.Struct, forbid_unknown_fields=True):
    events: Annotated[list[AnalyticsEventBody], Meta(max_length=MAX_BATCH), stated(minItems=1)]


class IngestBody(msgspec.Struct, omit_defaults=True):
    recorded: int
    dropped: int
    reason: str | None = None


class DailyCountBody(msgspec.Struct):
    day: date
    name: str
    feature: str | None
    count: int


class AnalyticsSummaryBody(msgspec.Struct):
    first_day: date
    last_day: date
    counts: list[DailyCountBody]


class ObjectionBody(msgspec.Struct, forbid_unknown_fields=True):
    purpose: ObjectablePurpose
    objected: bool


class ObjectionStateBody(msgspec.Struct):
    purpose: ObjectablePurpose
    objected: bool
    updated_at: datetime


class ObjectionList(msgspec.Struct):
    objections: list[ObjectionStateBody]


class ImprovementChoiceBody(msgspec.Struct, forbid_unknown_fields=True):
    allowed: Annotated[bool, Meta(description="may your prompts and images be used to improve the service")]
    method: Literal["settings", "api"] = "api"


class ImprovementRecordBody(msgspec.Struct):
    id: UUID
    allowed: bool
    method: Literal["settings", "api", "objection"]
    policy_version: int
    content_sha256: str
    recorded_at: datetime


class ImprovementBody(msgspec.Struct):
    """``chosen`` is your latest choice (off until you turn it on); ``allowed`` is what every hand-off of your content
    honours: off while you object to product_improvement or your processing is restricted."""

    chosen: bool
    allowed: bool
    objected: bool
    restricted: bool
    method: Literal["settings", "api", "objection"] | None
    policy_version: int | None
    recorded_at: datetime | None
    history: list[ImprovementRecordBody]
    """The newest choices first (at most 20); ``history_next`` is the ``before`` cursor of the older ones."""
    history_next: UUID | None


class ImprovementHistoryPage(msgspec.Struct):
    """A page of the improvement history, newest first; pass ``next_before`` as ``before`` for the older page."""

    items: list[ImprovementRecordBody]
    next_before: UUID | None


class AcceptanceBody(msgspec.Struct):
    policy_version: int
    content_sha256: str
    method: AcceptanceMethod
    accepted_at: datetime


class NoticeBody(msgspec.Struct):
    policy_version: int
    effective_at: datetime
    notified_at: datetime
    accepted_at: datetime | None


class PolicyStatusBody(msgspec.Struct):
    current_version: int
    current_sha256: str
    accepted_current: bool
    latest_acceptance: AcceptanceBody | None
    acceptances: list[AcceptanceBody]
    notices: list[NoticeBody]


class AcceptPolicyBody(msgspec.Struct, forbid_unknown_fields=True):
    version: Annotated[int, stated(minimum=1), Meta(description="the version in effect (422 for any other)")]


class DisclosureBody(msgspec.Struct):
    processor: str
    categories: list[str]
    purpose: Purpose
    reference: str | None
    occurred_at: datetime
    improvement_allowed: bool
    """Whether you allowed this content to be used to improve the service when it was handed over."""


class DisclosureList(msgspec.Struct):
    disclosures: list[DisclosureBody]


class PublishPolicyBody(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(max_length=200_000), stated(minLength=1, pattern=r"^[^\x00]+$")]
    effective_at: datetime


class NoticeRunBody(msgspec.Struct):
    """The notices of one policy version: ``pending`` (due), ``sending`` (batches going out), ``done``, or ``none``
    (published without notices: the shipped first version)."""

    version: int
    status: NoticeRunStatus
    sent: int
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class PublishedPolicyBody(msgspec.Struct):
    version: int
    content_sha256: str
    last_updated: date
    effective_at: datetime
    notices: NoticeRunBody  # sent by the notice job, not by this request


class StaffConsentView(msgspec.Struct):
    subject_id: UUID
    history: list[ConsentRecordBody]
    history_next: UUID | None


class ConsentHistoryPage(msgspec.Struct):
    """A page of the consent history, newest first; pass ``next_before`` as ``before`` for the older page."""

    items: list[ConsentRecordBody]
    next_before: UUID | None
