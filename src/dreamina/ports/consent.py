"""Consent records, objections, policy-change notices and analytics events, as the consent module stores them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.records import read_only_record


class ConsentMethod(enum.StrEnum):
    """How a consent record came about (G11: each record also names the policy version it was given under)."""

    BANNER = "banner"
    SETTINGS = "settings"
    API = "api"
    GPC = "gpc"
    CONTINUED_USE = "continued_use"


@read_only_record  # a consent choice reads twenty-one: see dreamina.ports.records
class ConsentRecord:
    """One entry of the append-only consent history of a subject (``subject_id``) or an anonymous device.

    A device is known only by ``device_key``, a keyed hash of its random cookie value: the stored value cannot be
    replayed as a cookie. ``gpc`` stays true once a Global Privacy Control signal was seen; while it is true,
    ``marketing`` is false and ``sale_share_opt_out`` is true whatever a later record asks for.
    """

    id: UUID
    subject_id: UUID | None
    device_key: str | None
    functional: bool
    analytics: bool
    marketing: bool
    sale_share_opt_out: bool
    gpc: bool
    method: ConsentMethod
    policy_version: int
    content_sha256: str
    recorded_at: datetime


class ConsentRecordRepository(Protocol):
    async def add(self, record: ConsentRecord) -> None:
        """Append a record; exactly one of ``subject_id`` / ``device_key`` must be set (``ValueError`` otherwise)."""
        ...

    async def add_many(self, records: list[ConsentRecord]) -> None:
        """Append ``records`` in their order, in one statement, each checked as :meth:`add` checks it. A record that
        is there already is ``Conflict``, from this call or, where the adapter sends the append with the commit (the
        SQL adapter on a pooled PostgreSQL database), from the commit; after it the unit of work must not commit
        (others may be written), and a commit that raised it kept none of them."""
        ...

    async def latest_for_subject(self, subject_id: UUID) -> ConsentRecord | None:
        """The most recently appended record of the subject (append order, not only time, decides)."""
        ...

    async def latest_for_device(self, device_key: str) -> ConsentRecord | None: ...

    async def history_for_subject(self, subject_id: UUID) -> list[ConsentRecord]:
        """Every record of the subject, oldest first."""
        ...

    async def count_for_subject(self, subject_id: UUID) -> int:
        """How many records the subject has (counted by the store: none is loaded)."""
        ...

    async def history_for_device(self, device_key: str) -> list[ConsentRecord]: ...

    async def page_for_subject(self, subject_id: UUID, limit: int, before: UUID | None = None) -> list[ConsentRecord]:
        """At most ``limit`` records of the subject, newest first, appended before the record ``before`` (its id);
        an id that is not one of the subject's records gives an empty page."""
        ...

    async def page_for_device(self, device_key: str, limit: int, before: UUID | None = None) -> list[ConsentRecord]: ...

    async def newest_with_device(
        self, subject_id: UUID, limit: int, device_key: str
    ) -> tuple[list[ConsentRecord], ConsentRecord | None]:
        """``page_for_subject(subject_id, limit)`` and ``latest_for_device(device_key)`` in one read: a choice made
        signed in on a device is recorded for both, from the subject's newest page and the device's latest record."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int:
        """Erasure: delete the subject's records; returns how many."""
        ...

    async def count_device_records_before(self, cutoff: datetime) -> int:
        """How many anonymous devices' records were recorded before ``cutoff``."""
        ...

    async def delete_device_records_before(self, cutoff: datetime, limit: int) -> int:
        """Retention: delete at most ``limit`` of the oldest such records; returns how many."""
        ...


OBJECTABLE_PURPOSES: tuple[Purpose, ...] = (Purpose.ANALYTICS, Purpose.PRODUCT_IMPROVEMENT, Purpose.MARKETING)


@dataclass(frozen=True, slots=True)
class Objection:
    """The subject's current stance on one purpose (Art. 21 GDPR): ``objected`` true stops that purpose."""

    subject_id: UUID
    purpose: Purpose
    objected: bool
    updated_at: datetime


class ObjectionRepository(Protocol):
    async def put(self, objection: Objection) -> None:
        """Set the subject's stance on ``objection.purpose``, replacing any earlier one."""
        ...

    async def for_subject(self, subject_id: UUID) -> list[Objection]:
        """The subject's stances, one per purpose they ever set, ordered by purpose."""
        ...

    async def objects_to(self, subject_id: UUID, purpose: Purpose) -> bool:
        """True if the subject currently objects to ``purpose``."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int:
        """Erasure: delete the subject's stances; returns how many."""
        ...


class ObjectionRegister(Protocol):
    """What every processing path asks before it processes a subject's data for an objectable purpose.

    Analytics ingest asks it for ``analytics``; marketing mail asks it for ``marketing``; every hand-off of content
    to a model provider asks for ``product_improvement`` (through ``improvement_allowed``).
    Each call reads the committed state, so an objection takes effect at once.
    """

    async def objects_to(self, subject_id: UUID, purpose: Purpose) -> bool: ...


class ImprovementMethod(enum.StrEnum):
    """How an improvement choice came about: the subject's own (``settings``, ``api``) or forced off by their
    objection to ``product_improvement``."""

    SETTINGS = "settings"
    API = "api"
    OBJECTION = "objection"


@dataclass(frozen=True, slots=True)
class ImprovementChoice:
    """One entry of a subject's append-only history of "use my content to improve the service" (off by default).

    Like a consent record it names the policy version (and its hash) it was made under (G11). Whether content may
    be used for improvement is decided by :func:`dreamina.domain.privacy.improvement.improvement_allowed`: the latest
    choice, and no objection to ``product_improvement`` and no processing restriction.
    """

    id: UUID
    subject_id: UUID
    allowed: bool
    method: ImprovementMethod
    policy_version: int
    content_sha256: str
    recorded_at: datetime


class ImprovementChoiceRepository(Protocol):
    async def add(self, choice: ImprovementChoice) -> None:
        """Append a choice (nothing is updated in place)."""
        ...

    async def latest_for_subject(self, subject_id: UUID) -> ImprovementChoice | None:
        """The most recently appended choice of the subject (append order decides, not only time)."""
        ...

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: UUID | None = None
    ) -> list[ImprovementChoice]:
        """At most ``limit`` choices, newest first, appended before the choice ``before`` (its id)."""
        ...

    async def history_for_subject(self, subject_id: UUID) -> list[ImprovementChoice]:
        """Every choice of the subject, oldest first (access and export)."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int:
        """Erasure: delete the subject's choices; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class PolicyNotice:
    """Notice of a new policy version sent to a subject; ``resolved_at`` is set once they accepted it."""

    id: UUID
    subject_id: UUID
    policy_version: int
    effective_at: datetime
    notified_at: datetime
    resolved_at: datetime | None = None


class PolicyNoticeRepository(Protocol):
    async def add(self, notice: PolicyNotice) -> None:
        """Record a notice; ``Conflict`` if the subject was already notified of that version."""
        ...

    async def subjects_without_notice(self, policy_version: int, limit: int) -> list[UUID]:
        """Up to ``limit`` active accounts not yet notified of ``policy_version``, in id order."""
        ...

    async def due_for_subject(self, subject_id: UUID, now: datetime) -> list[PolicyNotice]:
        """The subject's unresolved notices whose version took effect at or before ``now``, oldest version first."""
        ...

    async def for_subject(self, subject_id: UUID) -> list[PolicyNotice]:
        """Every notice the subject got, oldest version first."""
        ...

    async def resolve(self, notice_id: UUID, at: datetime) -> bool:
        """Mark a notice resolved; False if it was already (a concurrent request got there first)."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int:
        """Erasure: delete the notices the subject got; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class AnalyticsEvent:
    """A stored analytics event: no IP, no user agent, no account id; a pseudonym that changes every day."""

    id: UUID
    day: date
    name: str  # page_view | feature_used
    feature: str | None
    page: str | None
    country: str | None  # ISO 3166-1 alpha-2 from the truncated address, or None
    browser_family: str
    device_class: str  # desktop | mobile | tablet | bot | other
    pseudonym: str


@dataclass(frozen=True, slots=True)
class DailyCount:
    day: date
    name: str
    feature: str | None
    count: int


@dataclass(frozen=True, slots=True)
class AnalyticsGate:
    """What decides whether a signed-in subject's analytics events are stored, read together."""

    latest: ConsentRecord | None  # the subject's latest consent record (append order)
    objected: bool  # the subject objects to analytics (Art. 21 GDPR)
    restricted: bool  # the subject's processing is restricted (Art. 18 GDPR)

    def open_under(self, policy_version: int) -> bool:
        """G3 and G4: whether events may be stored: a yes to analytics given under ``policy_version`` (the version in
        effect), no objection to analytics, no restriction."""
        latest = self.latest
        return (
            latest is not None
            and latest.analytics
            and latest.policy_version == policy_version
            and not self.objected
            and not self.restricted
        )


@dataclass(slots=True)
class GatedBatch:
    """What became of a batch offered with :meth:`AnalyticsEventStore.add_if_open`: ``stored`` is known once the
    statement ran, by the unit of work's commit at the latest (the adapter may send it with the commit)."""

    stored: bool | None = None


class AnalyticsEventStore(Protocol):
    async def gate(self, subject_id: UUID) -> AnalyticsGate:
        """The subject's latest consent record, their analytics objection and their restriction, as
        ``ConsentRecordRepository.latest_for_subject``, ``ObjectionRepository.objects_to(subject_id, ANALYTICS)`` and
        ``ProcessingRestrictions.is_restricted`` answer them, in one read (every batch a signed-in subject sends
        asks all three)."""
        ...

    async def add_many(self, events: list[AnalyticsEvent]) -> None:
        """Store a batch of events in one statement (which the adapter may send with the commit)."""
        ...

    async def add_if_open(self, subject_id: UUID, policy_version: int, events: list[AnalyticsEvent]) -> GatedBatch:
        """Store a signed-in subject's batch only if their gate is open under ``policy_version``
        (:meth:`AnalyticsGate.open_under` of what :meth:`gate` would read), the gate read by the statement that
        stores the batch (which the adapter may send with the commit): all of the events or none, and no moment
        between the check and the insert in which a withdrawal, an objection or a restriction could slip."""
        ...

    async def daily_counts(self, first_day: date, last_day: date) -> list[DailyCount]:
        """Counts per day, event name and feature over ``first_day..last_day`` inclusive, ordered by those keys."""
        ...

    async def delete_before(self, day: date, limit: int) -> int:
        """Delete at most ``limit`` events older than ``day`` (retention); returns how many."""
        ...

    async def delete_pseudonyms(self, pseudonyms: list[str]) -> int:
        """Erasure: delete the events carrying any of ``pseudonyms``; returns how many."""
        ...

    async def count_pseudonyms(self, pseudonyms: list[str]) -> int: ...

    async def for_pseudonyms(self, pseudonyms: list[str]) -> list[AnalyticsEvent]:
        """Access and export: the events carrying any of ``pseudonyms``, oldest day first."""
        ...

    async def count_before(self, day: date) -> int:
        """How many events are older than ``day`` (what a dry run of the retention sweep reports)."""
        ...

    async def prepare_periods(self, today: date) -> None:
        """Retention by whole period: a store that keeps its events by day makes room for today's and the coming
        days' before they arrive (a store without periods does nothing)."""
        ...

    async def drop_periods_before(self, day: date) -> int | None:
        """Retention by whole period: remove at once a bounded run of whole days, every one before ``day``, with
        every event in them; returns how many events went, or None when there is no such day to remove (or the
        store keeps no periods, or cannot remove them now). What else is past due goes through ``delete_before``."""
        ...


@dataclass(frozen=True, slots=True)
class ClientTraits:
    """What analytics may keep about the client that sent a request."""

    country: str | None
    browser_family: str
    device_class: str


class ClientClassifier(Protocol):
    """Turns a truncated network address and a user agent into coarse traits; never stores either input."""

    def classify(self, truncated_address: str | None, user_agent: str) -> ClientTraits: ...


class ConsentStores(Protocol):
    """The consent module's stores in a unit of work."""

    consent_records: ConsentRecordRepository
    objections: ObjectionRepository
    improvement_choices: ImprovementChoiceRepository
    policy_notices: PolicyNoticeRepository
    analytics_events: AnalyticsEventStore
