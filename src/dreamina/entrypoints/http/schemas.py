"""Request and response bodies of the public API (msgspec structs; the OpenAPI schema is generated from them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dreamina.domain.identity.accounts import MAX_DISPLAY_NAME, MAX_PASSWORD
from dreamina.domain.identity.password_policy import MIN_PASSWORD
from dreamina.domain.identity.profiles import CONTENT_RETENTION_DAYS
from dreamina.domain.privacy.validation import MAX_EMAIL
from dreamina.entrypoints.http.texts import stated, stated_email, stated_text
from dreamina.ports.identity import AccountStatus

Email = Annotated[str, Meta(min_length=3, max_length=MAX_EMAIL), stated_email("email address")]
Password = Annotated[str, Meta(min_length=1, max_length=1024, description="the account's password")]
NewPassword = Annotated[
    str,
    Meta(min_length=1, max_length=1024),
    stated(minLength=MIN_PASSWORD, maxLength=MAX_PASSWORD),
    Meta(description=f"{MIN_PASSWORD} to {MAX_PASSWORD} characters, not a common or leaked password (422)"),
]
DisplayName = Annotated[str, Meta(max_length=MAX_DISPLAY_NAME * 4), stated_text(MAX_DISPLAY_NAME)]


class SignUpBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: NewPassword
    birth_date: Annotated[date, Meta(description="YYYY-MM-DD")]
    country: Annotated[str, Meta(max_length=8, description="ISO 3166-1 alpha-2 code, e.g. DE")]
    accept_policy_version: Annotated[
        int | Annotated[str, Meta(max_length=128)],
        Meta(description="the current policy's version number or its content_sha256"),
    ]
    region: Annotated[str, Meta(max_length=16, description="ISO 3166-2 code, e.g. US-CA")] | None = None
    display_name: DisplayName | None = None


class AccountCreated(msgspec.Struct):
    id: UUID


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    code: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=64,
                description="after 401 code_required: the sign-in code mailed to the account's address",
            ),
        ]
        | None
    ) = None


class TokenResponse(msgspec.Struct):
    access_token: str
    expires_at: datetime
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name, not a secret


class ProfileBody(msgspec.Struct):
    id: UUID
    email: str
    display_name: str | None
    birth_date: date
    country: str
    region: str | None
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    content_retention_days: Annotated[
        int | None, Meta(description="generations are deleted automatically after this many days; null: kept")
    ] = None
    email_verified: Annotated[
        bool,
        Meta(description="whether the address answered its verification link; until then it gets only security mail"),
    ] = False


class ProfilePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    content_retention_days: (
        Annotated[
            int | None,
            stated(minimum=CONTENT_RETENTION_DAYS[0], maximum=CONTENT_RETENTION_DAYS[1]),
            Meta(description="null: keep generations until you delete them; 1 to 3650: delete them after N days"),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    email: Email | msgspec.UnsetType = msgspec.UNSET
    display_name: DisplayName | msgspec.UnsetType | None = msgspec.UNSET
    birth_date: Annotated[date, Meta(description="YYYY-MM-DD")] | msgspec.UnsetType = msgspec.UNSET
    current_password: (
        Annotated[
            str,
            Meta(
                max_length=1024,
                description="required with email: the change is asked for, and happens once the new address confirms",
            ),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET


class TokenBody(msgspec.Struct, forbid_unknown_fields=True):
    """A one-time token from a mailed link."""

    token: Annotated[str, Meta(min_length=1, max_length=128, description="the token from the mailed link")]


class SectionBody(msgspec.Struct):
    number: int
    title: str
    body: str


class PolicyVersionSummary(msgspec.Struct):
    version: int
    content_sha256: str
    last_updated: date
    effective_at: datetime
    published_at: datetime
    in_effect: bool


class RetentionPeriodBody(msgspec.Struct):
    kind: Literal["days", "at_expiry", "account_setting", "account_lifetime", "never_stored"]
    days: int | None
    starts: str


class RetentionScheduleEntryBody(msgspec.Struct):
    """One line of the retention schedule (policy section 6), as declared in ``domain/privacy/schedule.py``."""

    key: str
    category: str
    stores: list[str]
    fields: list[str]
    object_prefix: str | None
    period: RetentionPeriodBody
    action: Literal["delete", "anonymise", "truncate", "none"]
    enforced_by: list[str]
    description: str


PolicyHash = Annotated[str, Meta(description="SHA-256 of `template`: what acceptances and consent records pin")]
PolicyContact = Annotated[str, Meta(description="the operator's privacy contact, filled into the text's contact slots")]
PolicyDateLabel = Annotated[str, Meta(description="`last_updated` as the text's 'Last updated' line states it")]
ServedText = Annotated[str, Meta(description="the text as served: `template` with the contact and the date filled in")]
PolicyTemplate = Annotated[str, Meta(description="the text as published, unchanged since (its slots unfilled)")]


class PolicyBody(msgspec.Struct):
    version: int
    content_sha256: PolicyHash
    last_updated: date
    last_updated_label: PolicyDateLabel
    effective_at: datetime
    published_at: datetime
    privacy_contact: PolicyContact
    sections: list[SectionBody]
    text: ServedText
    template: PolicyTemplate
    data_map: dict[str, Any]
    retention_schedule: list[RetentionScheduleEntryBody]


class PolicyVersionBody(msgspec.Struct):
    version: int
    content_sha256: PolicyHash
    last_updated: date
    last_updated_label: PolicyDateLabel
    effective_at: datetime
    published_at: datetime
    in_effect: bool  # False: published, taking effect at effective_at
    privacy_contact: PolicyContact
    sections: list[SectionBody]
    text: ServedText
    template: PolicyTemplate


class PolicyVersionList(msgspec.Struct):
    current_version: int | None
    versions: list[PolicyVersionSummary]


class ProcessorBody(msgspec.Struct):
    id: str
    name: str
    role: str
    location: str
    retention: str
    purposes: list[str]
    categories: list[str]
    training_use: str | None = None
    """Model providers: whether the vendor may train on what it receives, and which of its options we use."""


class AnalyticsStatementBody(msgspec.Struct):
    """Section 4's analytics: who runs it, where its data is kept and for how long (from the data map)."""

    first_party: bool
    statement: str
    stores: list[str]  # where the events are kept (our own database)
    retention: list[str]
    processors: list[str]  # processors named as receiving analytics data: none


class ProcessorList(msgspec.Struct):
    processors: list[ProcessorBody]  # only those this deployment's configuration hands personal data to
    analytics: AnalyticsStatementBody


class Health(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable", "not_configured"]
    objects: Literal["ok", "unavailable"]


class ProblemFieldError(msgspec.Struct):
    """One refused member of a request (``validation_failed``): where it was (``source``: body, query, header, path,
    cookie), its name (``key``) and what is wrong with it; never its value."""

    key: str | None
    message: str | None
    source: str | None


class ProblemDetails(msgspec.Struct):
    """RFC 9457 problem details; ``code`` is stable and machine-readable, other members depend on the problem."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    errors: list[ProblemFieldError] | None = None
    minimum_age: int | None = None
    current_version: int | None = None
    current_sha256: str | None = None
