"""The retention schedule as data (policy section 6, guarantee G7).

One declaration says, for every kind of record we keep: which data-map store (or object prefix) it lives in, how
long it lives, what happens when its time is up, and which retention task enforces that. ``GET /v1/privacy/policy``
publishes it; tests tie it to the data map and to the tasks the composition root registers, both ways, and prove
every entry with an injected clock. ``RetentionRule.action`` in the data map says what erasure does to a field (a
legal hold is pseudonymised); the schedule's ``action`` is what the sweep does when the period ends.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dreamina.domain.privacy.vocabulary import DataCategory

if TYPE_CHECKING:  # the data map imports this module's constants
    from dreamina.domain.privacy.datamap import DataMap

LEGAL_RECORD_DAYS = 365 * 3  # limitation period for claims about how we handled a subject's data
REQUEST_RECORD_DAYS = LEGAL_RECORD_DAYS  # CCPA regulations ask for at least 24 months of request records
ONE_TIME_CODE_MINUTES = 15
CHILD_REPORTER_DATA_DAYS = 90  # the reporter has been told the outcome; nothing left to answer
CHILD_REPORT_RECORD_DAYS = LEGAL_RECORD_DAYS  # proof the report was handled
PRIVACY_TICKET_DAYS = 730  # records of how privacy questions were answered (CCPA regs: at least 24 months)
OTHER_TICKET_DAYS = 365  # billing and other tickets: follow-ups and disputes about the same purchase
DEVICE_CONSENT_DAYS = 396  # 13 months: the device cookie's lifetime (CNIL: consent asked again after 13 months)


class PeriodKind(enum.StrEnum):
    DAYS = "days"  # a fixed number of days from the entry's starting point
    AT_EXPIRY = "at_expiry"  # when the record's own expiry time passes
    ACCOUNT_SETTING = "account_setting"  # per the account's own setting (none: kept until deleted)
    ACCOUNT_LIFETIME = "account_lifetime"  # while the account exists; erased with it
    NEVER_STORED = "never_stored"  # the data is not kept at all


class ScheduleAction(enum.StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    TRUNCATE = "truncate"
    NONE = "none"  # nothing to sweep: the record goes with the account, or is never stored


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    kind: PeriodKind
    days: int | None = None  # DAYS: the period; AT_EXPIRY: the longest the expiry can be set to
    starts: str = ""  # what the clock counts from, e.g. "the day of the event"

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind.value, "days": self.days, "starts": self.starts}


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One line of the schedule. ``fields`` narrows it to some fields of its stores (empty: whole records)."""

    key: str
    category: DataCategory
    period: RetentionPeriod
    action: ScheduleAction
    description: str
    stores: tuple[str, ...] = ()  # data-map stores the entry covers
    fields: tuple[str, ...] = ()
    prefix: str | None = None
    tasks: tuple[str, ...] = ()  # names of the RetentionTasks that enforce it

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "category": self.category.value,
            "stores": list(self.stores),
            "fields": list(self.fields),
            "object_prefix": self.prefix,
            "period": self.period.as_dict(),
            "action": self.action.value,
            "enforced_by": list(self.tasks),
            "description": self.description,
        }


def _days(days: int, starts: str) -> RetentionPeriod:
    return RetentionPeriod(PeriodKind.DAYS, days, starts)


_LIFETIME = RetentionPeriod(PeriodKind.ACCOUNT_LIFETIME, None, "the account's creation")

RETENTION_SCHEDULE: tuple[ScheduleEntry, ...] = (
    ScheduleEntry(
        "sessions",
        DataCategory.TECHNICAL,
        RetentionPeriod(PeriodKind.AT_EXPIRY, 30, "sign-in (DREAMINA_TOKEN_TTL_SECONDS, at most 30 days)"),
        ScheduleAction.DELETE,
        "signed-in sessions (a hash of the bearer token) are deleted once they expire",
        stores=("auth_sessions",),
        tasks=("auth_sessions.expired",),
    ),
    ScheduleEntry(
        "ip_addresses_and_user_agents",
        DataCategory.TECHNICAL,
        RetentionPeriod(PeriodKind.NEVER_STORED, None, ""),
        ScheduleAction.NONE,
        "IP addresses and user agents are never stored: sessions hold neither, rate limits count a keyed hash of "
        "the address for one minute, analytics keeps only the country of the address truncated to /24 (IPv4) or "
        "/48 (IPv6) and the browser family",
    ),
    ScheduleEntry(
        "analytics_events",
        DataCategory.USAGE,
        _days(180, "the day of the event"),
        ScheduleAction.DELETE,
        "privacy-friendly analytics events are deleted 180 days after the day they describe",
        stores=("analytics_events",),
        tasks=("analytics_events.expired",),
    ),
    ScheduleEntry(
        "device_consent_records",
        DataCategory.TECHNICAL,
        _days(DEVICE_CONSENT_DAYS, "when the choice was recorded"),
        ScheduleAction.DELETE,
        "consent choices of anonymous devices are deleted 13 months after they were made (the cookie's lifetime)",
        stores=("consent_records",),
        fields=("device_key",),
        tasks=("consent_records.device_expired",),
    ),
    ScheduleEntry(
        "one_time_codes",
        DataCategory.TECHNICAL,
        RetentionPeriod(PeriodKind.AT_EXPIRY, None, f"the code being sent ({ONE_TIME_CODE_MINUTES} minutes)"),
        ScheduleAction.DELETE,
        "one-time identity codes (a keyed hash) are cleared from their privacy request once they expire",
        stores=("privacy_requests",),
        fields=("code_hash", "code_expires_at"),
        tasks=("privacy_requests.expired_codes",),
    ),
    ScheduleEntry(
        "export_archives",
        DataCategory.ACCOUNT,
        _days(7, "the archive being built"),
        ScheduleAction.DELETE,
        "data-export archives are deleted, object and link, 7 days after they are built",
        stores=("privacy_jobs",),
        fields=("archive_key",),
        prefix="exports/",
        tasks=("privacy_jobs.expired_archives",),
    ),
    ScheduleEntry(
        "privacy_request_records",
        DataCategory.ACCOUNT,
        _days(REQUEST_RECORD_DAYS, "the request being closed (completed, rejected or cancelled)"),
        ScheduleAction.DELETE,
        "records of answered privacy requests and their history are deleted 3 years after the request closed "
        "(at the end of an erasure at once)",
        stores=("privacy_requests", "privacy_request_events", "privacy_jobs"),
        tasks=("privacy_requests.legal_period_over",),
    ),
    ScheduleEntry(
        "child_report_reporter_data",
        DataCategory.ACCOUNT,
        _days(CHILD_REPORTER_DATA_DAYS, "the report's closing"),
        ScheduleAction.DELETE,
        "a child report's reporter data (contact, relationship, what they wrote, the report's key) is deleted 90 "
        "days after the report is closed",
        stores=("child_reports",),
        fields=("reporter_key", "reporters_ciphertext", "details_ciphertext"),
        tasks=("child_reports.reporter_data",),
    ),
    ScheduleEntry(
        "child_reports",
        DataCategory.ACCOUNT,
        _days(CHILD_REPORT_RECORD_DAYS, "the report's closing"),
        ScheduleAction.DELETE,
        "a closed child report's record is deleted 3 years after it was closed; the reported subject's erasure "
        "replaces their id with the erasure pseudonym until then",
        stores=("child_reports",),
        tasks=("child_reports.closed",),
    ),
    ScheduleEntry(
        "privacy_support_tickets",
        DataCategory.ACCOUNT,
        _days(PRIVACY_TICKET_DAYS, "the ticket's closing"),
        ScheduleAction.DELETE,
        "closed privacy tickets (the record of how a privacy question was answered) are deleted 2 years after "
        "closing (a ticket answered but never closed: after its last answer); a signed-in subject's tickets go "
        "with their erasure",
        stores=("support_tickets",),
        tasks=("support_tickets.closed_privacy",),
    ),
    ScheduleEntry(
        "other_support_tickets",
        DataCategory.ACCOUNT,
        _days(OTHER_TICKET_DAYS, "the ticket's closing"),
        ScheduleAction.DELETE,
        "closed billing and other support tickets are deleted 1 year after closing (answered but never closed: "
        "after the last answer)",
        stores=("support_tickets",),
        tasks=("support_tickets.closed_other",),
    ),
    ScheduleEntry(
        "audit_events",
        DataCategory.ACCOUNT,
        _days(LEGAL_RECORD_DAYS, "the event"),
        ScheduleAction.DELETE,
        "audit events (rectifications, staff access, request changes) are deleted 3 years after they happened; "
        "pseudonymised on erasure until then",
        stores=("audit_events",),
        tasks=("audit_events.legal_period_over",),
    ),
    ScheduleEntry(
        "payment_records",
        DataCategory.PAYMENT,
        _days(3650, "the payment (DREAMINA_BILLING_RECORD_RETENTION_DAYS, fixed on each record when made)"),
        ScheduleAction.DELETE,
        "payment records are kept for the legal accounting period, pseudonymised on erasure, then deleted",
        stores=("payments",),
        tasks=("payments.legal_period_over",),
    ),
    ScheduleEntry(
        "checkout_sessions",
        DataCategory.PAYMENT,
        _days(3650, "the checkout being opened (DREAMINA_BILLING_RECORD_RETENTION_DAYS)"),
        ScheduleAction.DELETE,
        "hosted checkouts we opened are kept with the payment records, pseudonymised on erasure, then deleted",
        stores=("checkout_sessions",),
        tasks=("checkout_sessions.legal_period_over",),
    ),
    ScheduleEntry(
        "handled_payment_events",
        DataCategory.TECHNICAL,
        _days(90, "the event being handled"),
        ScheduleAction.DELETE,
        "marks of processor events already handled are forgotten after 90 days",
        stores=("processed_payment_events",),
        tasks=("processed_payment_events.expired",),
    ),
    ScheduleEntry(
        "prompts_and_outputs",
        DataCategory.CONTENT,
        RetentionPeriod(PeriodKind.ACCOUNT_SETTING, None, "the generation being submitted"),
        ScheduleAction.DELETE,
        "generations (prompt, parameters, outputs and reference uploads no other generation uses) are kept until "
        "you delete them, or deleted automatically after the number of days you set (PATCH /v1/me "
        "content_retention_days, 1 to 3650); with that setting, reference uploads no generation uses are deleted, "
        "image included, once they are older than the same number of days",
        stores=("generations", "generation_references", "uploads"),
        prefix="outputs/",
        tasks=("generations.owner_retention", "uploads.owner_retention"),
    ),
    ScheduleEntry(
        "account",
        DataCategory.ACCOUNT,
        _LIFETIME,
        ScheduleAction.NONE,
        "account details, consent history of the account, objections, uploads and the disclosure ledger are kept "
        "while the account exists and erased with it (30-day grace after an erasure request)",
        stores=("accounts",),
    ),
)


def schedule_entry(key: str) -> ScheduleEntry:
    return next(e for e in RETENTION_SCHEDULE if e.key == key)


def enforcing_tasks(schedule: Iterable[ScheduleEntry] = RETENTION_SCHEDULE) -> set[str]:
    """Names of every task the schedule says enforces it."""
    return {task for entry in schedule for task in entry.tasks}


def schedule_as_dicts(schedule: Iterable[ScheduleEntry] = RETENTION_SCHEDULE) -> list[dict[str, object]]:
    return [entry.as_dict() for entry in schedule]


def schedule_gaps(data_map: DataMap, schedule: Iterable[ScheduleEntry], registered: Iterable[str]) -> list[str]:
    """Everything that breaks the tie between the data map, the schedule and the registered retention tasks.

    Every field or object prefix whose retention rule names a period is covered by an entry with that period and
    a task; every registered task is in the schedule and every task the schedule names is registered; every entry
    names stores, fields and prefixes the data map declares.
    """
    entries = list(schedule)
    registered = set(registered)
    gaps: list[str] = []
    for store in data_map.stores.values():
        for name, declared in store.fields.items():
            days = declared.retention.days
            if days is None:
                continue
            if not any(
                store.name in e.stores and (not e.fields or name in e.fields) and e.period.days == days and e.tasks
                for e in entries
            ):
                gaps.append(f"{store.name}.{name}: its {days}-day rule is enforced by no schedule entry with a task")
    for prefix in data_map.object_prefixes:
        days = prefix.retention.days
        if days is not None and not any(
            e.prefix == prefix.prefix and e.period.days == days and e.tasks for e in entries
        ):
            gaps.append(f"prefix {prefix.prefix}: its {days}-day rule is enforced by no schedule entry with a task")
    for e in entries:
        for store_name in e.stores:
            declared_store = data_map.stores.get(store_name)
            if declared_store is None:
                gaps.append(f"entry {e.key}: store {store_name} is not in the data map")
                continue
            gaps.extend(
                f"entry {e.key}: field {store_name}.{f} is not in the data map"
                for f in e.fields
                if f not in declared_store.fields
            )
        if e.prefix is not None and all(p.prefix != e.prefix for p in data_map.object_prefixes):
            gaps.append(f"entry {e.key}: prefix {e.prefix} is not in the data map")
        if not e.stores and e.prefix is None and e.period.kind is not PeriodKind.NEVER_STORED:
            gaps.append(f"entry {e.key}: names no store or prefix")
        if e.tasks and e.action is ScheduleAction.NONE:
            gaps.append(f"entry {e.key}: has tasks but no action")
        gaps.extend(f"entry {e.key}: task {t} is not registered" for t in e.tasks if t not in registered)
    named = enforcing_tasks(entries)
    gaps.extend(f"task {t} is registered but enforces no schedule entry" for t in sorted(registered - named))
    keys = [e.key for e in entries]
    gaps.extend(f"entry {k} is declared twice" for k in sorted({k for k in keys if keys.count(k) > 1}))
    return gaps
