"""Privacy-friendly analytics (policy section 4, G3): consent first, then only coarse, pseudonymous facts.

Stored per event: the day, the event name and its one allow-listed property, the country of the client's
address truncated to /24 (IPv4) or /48 (IPv6), browser family and device class, and a pseudonym that is a keyed
hash of the account or device *and the day*, so events link within a day and never across days. The IP address
and user agent are never stored. Without analytics consent under the current policy, or after an objection to
analytics, events are dropped and the answer says so.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from dreamina.domain.consent.preferences import ConsentRegistry, Requester
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.ports.clock import Clock
from dreamina.ports.consent import AnalyticsEvent, ClientClassifier, DailyCount, GatedBatch
from dreamina.ports.keys import KeyVault
from dreamina.ports.unit_of_work import UnitOfWorkFactory, reader_of

PSEUDONYM_INDEX = "analytics-pseudonym"
MAX_BATCH = 100
MAX_SUMMARY_DAYS = 366
RETENTION_DAYS = 180  # as declared for analytics_events in the data map
EVENT_PROPERTY = {"page_view": "page", "feature_used": "feature"}  # each event carries exactly this property
PAGE = r"^/[A-Za-z0-9/_.~-]{0,199}$"
FEATURE = r"^[a-z][a-z0-9_.-]{0,63}$"
_PAGE = re.compile(PAGE.strip("^$"))  # a path only: no query, fragment, user info or spaces
_FEATURE = re.compile(FEATURE.strip("^$"))


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    name: str
    page: str | None = None
    feature: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    recorded: int
    dropped: int
    reason: str | None  # None when recorded; "no_consent" or "processing_restricted" when dropped


def truncate_address(address: str | None) -> str | None:
    """The network of ``address``: IPv4 /24, IPv6 /48 (IPv4-mapped IPv6 as IPv4). None if not an address."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    prefix = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)


def fresh_ids(count: int) -> list[UUID]:
    """``count`` random (version 4) UUIDs from one read of the system's random source: what ``uuid.uuid4()`` makes
    one read at a time (a system call each: 5% of an analytics batch's CPU under load)."""
    random = os.urandom(16 * count)
    return [UUID(bytes=random[start : start + 16], version=4) for start in range(0, 16 * count, 16)]


def check_events(events: list[IncomingEvent]) -> None:
    if not events:
        raise InvalidInput("a batch needs at least one event", field="events")
    if len(events) > MAX_BATCH:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH} events", field="events")
    for index, event in enumerate(events):
        wanted = EVENT_PROPERTY.get(event.name)
        if wanted is None:
            raise InvalidInput("name must be page_view or feature_used", field=f"events[{index}].name")
        page, feature = event.page, event.feature
        if wanted == "page" and (feature is not None or page is None or not _PAGE.fullmatch(page)):
            raise InvalidInput("a page_view carries exactly one property: page, a path", field=f"events[{index}]")
        if wanted == "feature" and (page is not None or feature is None or not _FEATURE.fullmatch(feature)):
            raise InvalidInput(
                "a feature_used carries exactly one property: feature, a lower-case name", field=f"events[{index}]"
            )


@dataclass(frozen=True, slots=True)
class DailySummary:
    """Event counts per day, event and feature over ``first_day`` .. ``last_day`` (both included)."""

    first_day: date
    last_day: date
    counts: list[DailyCount]


class Analytics:
    """Ingest and summary of analytics events."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        consent: ConsentRegistry,
        classifier: ClientClassifier,
        vault: KeyVault,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._consent = consent
        self._classifier = classifier
        self._vault = vault
        self._clock = clock

    async def ingest(
        self, requester: Requester, events: list[IncomingEvent], *, address: str | None, user_agent: str
    ) -> IngestResult:
        check_events(events)
        # Every check reads what is committed (a withdrawal or an objection acts at once): consent under the policy
        # in effect, an objection, a restriction. A device's batch is checked, then stored; a signed-in subject's is
        # stored by the statement that reads its gate (one round trip, and nothing can slip between the two): its
        # rows are made first, in this process, and kept only if the gate is open.
        subject = requester.subject_id
        if subject is None:
            async with reader_of(self._uow)() as uow:
                if not (await self._consent.state_in(uow, requester)).analytics_allowed:
                    return IngestResult(0, len(events), "no_consent")
        stored = self._events(requester, events, address=address, user_agent=user_agent)
        async with self._uow() as uow:
            if subject is None:
                await uow.analytics_events.add_many(stored)
                outcome = GatedBatch(stored=True)
            else:
                version = await self._consent.policy_version()
                outcome = await uow.analytics_events.add_if_open(subject, version, stored)
            await uow.commit()
        if outcome.stored:
            return IngestResult(len(stored), 0, None)
        assert subject is not None and outcome.stored is False  # known by the commit
        async with reader_of(self._uow)() as uow:  # why it was refused (the gate as it stands now)
            gate = await uow.analytics_events.gate(subject)
        consented = (await self._consent.state_of(gate.latest)).analytics_allowed and not gate.objected
        # G4: a restricted subject's events are kept out, and the answer says why (consent alone would let them in)
        return IngestResult(0, len(events), "processing_restricted" if consented and gate.restricted else "no_consent")

    def _events(
        self, requester: Requester, events: list[IncomingEvent], *, address: str | None, user_agent: str
    ) -> list[AnalyticsEvent]:
        """What is stored of ``events``: today's day, the coarse client traits, the day's pseudonym."""
        day = self._clock.now().date()
        traits = self._classifier.classify(truncate_address(address), user_agent[:512])
        pseudonym = self._pseudonym(requester, day)
        return [
            AnalyticsEvent(
                id=event_id,
                day=day,
                name=event.name,
                feature=event.feature,
                page=event.page,
                country=traits.country,
                browser_family=traits.browser_family,
                device_class=traits.device_class,
                pseudonym=pseudonym,
            )
            for event_id, event in zip(fresh_ids(len(events)), events, strict=True)
        ]

    def _pseudonym(self, requester: Requester, day: date) -> str:
        if requester.subject_id is not None:
            owner = f"subject:{requester.subject_id}"
        else:
            assert requester.device_id is not None  # analytics_allowed implies a record, so an owner
            owner = f"device:{self._consent.device_key(requester.device_id)}"
        return analytics_pseudonym(self._vault, owner, day)

    async def summary(self, first_day: date | None, last_day: date | None) -> DailySummary:
        """Daily counts per event and feature; by default the last 30 days."""
        today = self._clock.now().date()
        last = last_day or today
        first = first_day or last - timedelta(days=29)
        if first > last:
            raise InvalidInput("from must not be after to", field="from")
        if (last - first).days >= MAX_SUMMARY_DAYS:
            raise InvalidInput(f"a summary covers at most {MAX_SUMMARY_DAYS} days", field="from")
        async with self._uow() as uow:
            return DailySummary(first, last, await uow.analytics_events.daily_counts(first, last))


def analytics_pseudonym(vault: KeyVault, owner: str, day: date) -> str:
    """The analytics pseudonym of ``owner`` ("subject:<id>" or "device:<key>") on ``day``.

    The day is part of the hashed input: the pseudonym rotates daily and cannot be joined across days, yet erasure
    can recompute every pseudonym a subject had within the retention period and delete those events.
    """
    return vault.blind_index(PSEUDONYM_INDEX, f"{day.isoformat()}|{owner}")[:32]


def subject_pseudonyms(vault: KeyVault, subject_id: UUID, today: date) -> list[str]:
    """Every pseudonym the subject can have had on an event still kept (the retention period plus today)."""
    return [
        analytics_pseudonym(vault, f"subject:{subject_id}", today - timedelta(days=n))
        for n in range(RETENTION_DAYS + 2)
    ]
