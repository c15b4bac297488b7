"""The staff console's insight pages: the analytics summary as a chart and a table (/admin/analytics), and the audit
trail, filtered, a page at a time, with a CSV export of the filtered view (/admin/audit).

Each handler calls the use case its JSON API twin calls (named in its docstring), under the same roles (privacy
officers and admins); reading the trail is audited in the use case, for the page and the export alike.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream, Template

from dreamina.domain.consent.analytics import Analytics
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.audit_trail import MAX_ACTION, AuditTrail, audit_query
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.entrypoints.http.auth import CONSOLE_STAFF, STAFF
from dreamina.entrypoints.http.web.charts import daily_bars
from dreamina.entrypoints.http.web.pages import page
from dreamina.ports.audit import ActorKind, AuditEvent, AuditQuery

Text = Annotated[str | None, QueryParameter(max_length=MAX_ACTION)]  # a GET form sends empty fields as ""
Before = Annotated[str | None, QueryParameter(max_length=100)]
CSV_COLUMNS = ("occurred_at", "action", "actor_kind", "actor_id", "subject_id", "fields", "reason", "id")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a day (YYYY-MM-DD)", field=name) from None


def _uuid(value: str | None, name: str) -> UUID | None:
    if not value or not value.strip():
        return None
    try:
        return UUID(value.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be an id (a UUID)", field=name) from None


class Filters:
    """The audit page's filter form as given (to fill the form again and build links) and as the query it means."""

    def __init__(self, *given: str | None) -> None:
        action, actor_kind, actor_id, subject_id, first, last = given
        self.values = {
            "action": (action or "").strip(),
            "actor_kind": actor_kind or "",
            "actor_id": (actor_id or "").strip(),
            "subject_id": (subject_id or "").strip(),
            "from": first or "",
            "to": last or "",
        }
        self.query: AuditQuery = audit_query(
            action=action or None,
            actor_kind=actor_kind or None,
            actor_id=_uuid(actor_id, "actor_id"),
            subject_id=_uuid(subject_id, "subject_id"),
            first_day=_day(first, "from"),
            last_day=_day(last, "to"),
        )

    def params(self, **more: str) -> dict[str, str]:
        return {k: v for k, v in {**self.values, **more}.items() if v}


async def _csv_rows(events: AsyncIterator[AuditEvent]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    async for e in events:
        writer.writerow(
            csv_cell(v)
            for v in (
                e.occurred_at.isoformat(),
                e.action,
                ActorKind(e.actor_kind).value,
                e.actor_id,
                e.subject_id,
                " ".join(e.fields),
                e.reason,
                e.id,
            )
        )
        if buffer.tell() > 16_384:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class StaffInsight(Controller):
    path = "/admin"
    guards = [CONSOLE_STAFF]
    dependencies = STAFF

    @get("/analytics")
    async def analytics(
        self,
        analytics: NamedDependency[Analytics],
        first: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        last: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
    ) -> Template:
        """As ``GET /v1/admin/analytics/summary`` (the same defaults and limits): daily totals drawn as bars, and
        every count per event and feature in the table."""
        summary = await analytics.summary(_day(first, "from"), _day(last, "to"))
        days = [summary.first_day + timedelta(days=n) for n in range((summary.last_day - summary.first_day).days + 1)]
        totals: dict[date, int] = defaultdict(int)
        for count in summary.counts:
            totals[count.day] += count.count
        rows = sorted(summary.counts, key=lambda c: (c.day, c.name, c.feature or ""), reverse=True)
        return page(
            "admin_analytics.html",
            summary=summary,
            chart=daily_bars(days, [totals[d] for d in days]),
            rows=rows,
            first=summary.first_day.isoformat(),
            last=summary.last_day.isoformat(),
        )

    @get("/audit")
    async def audit(
        self,
        staff: NamedDependency[Principal],
        audit_trail: NamedDependency[AuditTrail],
        action: Text = None,
        actor_kind: Annotated[str | None, QueryParameter(max_length=16)] = None,
        actor_id: Text = None,
        subject_id: Text = None,
        first: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        last: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
        before: Before = None,
    ) -> Template:
        """As ``GET /v1/admin/audit-events``: newest first, a page at a time (each subject shown is audited)."""
        filters = Filters(action, actor_kind, actor_id, subject_id, first, last)
        found = await audit_trail.search(staff.account_id, filters.query, before=before or None)
        return page(
            "admin_audit.html",
            events=found.events,
            filters=filters.values,
            next_params=None if found.next_before is None else filters.params(before=found.next_before),
            export_params=filters.params(),
            first_page_params=filters.params() if before else None,
            kinds=[k.value for k in ActorKind],
        )

    @get("/audit/export.csv", media_type="text/csv")
    async def export(
        self,
        staff: NamedDependency[Principal],
        audit_trail: NamedDependency[AuditTrail],
        action: Text = None,
        actor_kind: Annotated[str | None, QueryParameter(max_length=16)] = None,
        actor_id: Text = None,
        subject_id: Text = None,
        first: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        last: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
    ) -> Stream:
        """The filtered view of ``GET /v1/admin/audit-events`` as CSV, every page of it (up to the use case's
        bound), streamed; each page read is audited before it is sent."""
        filters = Filters(action, actor_kind, actor_id, subject_id, first, last)
        return Stream(
            _csv_rows(audit_trail.export(staff.account_id, filters.query)),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="audit-events.csv"', "cache-control": "no-store"},
        )
