"""The audit trail as staff read it: a filtered search, newest first a page at a time, and a filtered export.

Reading the trail is itself a staff access: like the privacy-request queue, every subject whose events a page (or
an export) shows gets an audit event naming the staff member (``staff_viewed_audit_trail``), recorded in the unit
of work that read the page. Staff roles are checked where staff come in (the HTTP guards); these use cases take the
authenticated staff member's id.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from dreamina.domain.privacy.errors import InvalidInput
from dreamina.domain.privacy.validation import clean_text
from dreamina.ports.audit import ActorKind, AuditCursor, AuditEvent, AuditQuery
from dreamina.ports.clock import Clock
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

PAGE = 50
MAX_PAGE = 200
MAX_EXPORT = 10_000  # events in one export; narrow the filters for more
MAX_ACTION = 100
VIEWED = "staff_viewed_audit_trail"
LISTED = "listed in the audit trail"
EXPORTED = "exported from the audit trail"


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: str | None  # the cursor of the next (older) page, None on the last


def audit_query(
    *,
    action: str | None = None,
    actor_kind: str | None = None,
    actor_id: UUID | None = None,
    subject_id: UUID | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> AuditQuery:
    """The filters a staff member gives, checked: days are whole UTC days, both included."""
    if action is not None:
        action = clean_text(action, field="action", max_length=MAX_ACTION) or None
    kind = None
    if actor_kind is not None:
        try:
            kind = ActorKind(actor_kind)
        except ValueError:
            raise InvalidInput(
                f"actor_kind must be one of {', '.join(k.value for k in ActorKind)}", field="actor_kind"
            ) from None
    if first_day is not None and last_day is not None and first_day > last_day:
        raise InvalidInput("from must not be after to", field="from")
    return AuditQuery(
        action_prefix=action,
        actor_kind=kind,
        actor_id=actor_id,
        subject_id=subject_id,
        since=None if first_day is None else datetime.combine(first_day, time(), UTC),
        until=None if last_day is None else datetime.combine(last_day + timedelta(days=1), time(), UTC),
    )


def cursor_token(event: AuditEvent) -> str:
    return f"{event.occurred_at.astimezone(UTC).isoformat()}~{event.id}"


def parse_cursor(token: str) -> AuditCursor:
    """The ``next_before`` a page gave; anything else is refused."""
    when, _, event_id = token.partition("~")
    try:
        at = datetime.fromisoformat(when)
        cursor = AuditCursor(at, UUID(event_id))
    except ValueError:
        raise InvalidInput("before is not a cursor this trail gave", field="before") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("before is not a cursor this trail gave", field="before")
    return cursor


class AuditTrail:
    """Staff use cases over the audit trail; each page is one unit of work that commits itself."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def search(
        self, staff_id: UUID, query: AuditQuery, limit: int = PAGE, before: str | None = None
    ) -> AuditPage:
        """One page of the events matching ``query``, newest first; the subjects shown are recorded as viewed."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", field="limit")
        cursor = None if before is None else parse_cursor(before)
        async with self._uow() as uow:
            found = await uow.audit.search(query, limit + 1, cursor)
            shown = found[:limit]
            await self._viewed(uow, staff_id, shown, LISTED)
            await uow.commit()
        more = len(found) > limit
        return AuditPage(shown, cursor_token(shown[-1]) if more and shown else None)

    async def export(self, staff_id: UUID, query: AuditQuery) -> AsyncIterator[AuditEvent]:
        """Every event matching ``query`` (at most ``MAX_EXPORT``), newest first, read a page at a time; each page's
        subjects are recorded as viewed before its events are handed out."""
        cursor: AuditCursor | None = None
        handed = 0
        while handed < MAX_EXPORT:
            async with self._uow() as uow:
                found = await uow.audit.search(query, min(MAX_PAGE, MAX_EXPORT - handed), cursor)
                await self._viewed(uow, staff_id, found, EXPORTED)
                await uow.commit()
            for event in found:
                yield event
            handed += len(found)
            if len(found) < MAX_PAGE:
                return
            cursor = AuditCursor(found[-1].occurred_at, found[-1].id)

    async def _viewed(self, uow: UnitOfWork, staff_id: UUID, events: list[AuditEvent], reason: str) -> None:
        now = self._clock.now()
        for subject_id in dict.fromkeys(e.subject_id for e in events):
            await uow.audit.append(
                AuditEvent(
                    id=uuid.uuid4(),
                    subject_id=subject_id,
                    actor_kind=ActorKind.STAFF,
                    actor_id=staff_id,
                    action=VIEWED,
                    fields=("audit_events",),
                    reason=reason,
                    occurred_at=now,
                )
            )
