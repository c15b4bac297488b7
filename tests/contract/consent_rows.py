"""One row of each consent-module table, for the generic unit-of-work contract tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from uuid import UUID

from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import (
    AnalyticsEvent,
    ConsentMethod,
    ConsentRecord,
    ImprovementChoice,
    ImprovementMethod,
    Objection,
    PolicyNotice,
)
from dreamina.ports.staff import StaffMember, StaffRole
from dreamina.ports.unit_of_work import UnitOfWork


def consent_record(
    now: datetime, *, subject_id: UUID | None = None, device_key: str | None = None, **changes: object
) -> ConsentRecord:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "subject_id": subject_id,
        "device_key": device_key,
        "functional": True,
        "analytics": True,
        "marketing": False,
        "sale_share_opt_out": False,
        "gpc": False,
        "method": ConsentMethod.BANNER,
        "policy_version": 1,
        "content_sha256": "a" * 64,
        "recorded_at": now,
    }
    values.update(changes)
    return ConsentRecord(**values)  # type: ignore[arg-type]


def improvement_choice(subject: UUID, now: datetime, allowed: bool = True) -> ImprovementChoice:
    return ImprovementChoice(uuid.uuid4(), subject, allowed, ImprovementMethod.SETTINGS, 1, "a" * 64, now)


def analytics_event(day: date, **changes: object) -> AnalyticsEvent:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "day": day,
        "name": "page_view",
        "feature": None,
        "page": "/gallery",
        "country": "DE",
        "browser_family": "Firefox",
        "device_class": "desktop",
        "pseudonym": "p" * 32,
    }
    values.update(changes)
    return AnalyticsEvent(**values)  # type: ignore[arg-type]


async def write_one_of_each_consent_row(uow: UnitOfWork, subject: UUID, now: datetime) -> None:
    await uow.consent_records.add(consent_record(now, subject_id=subject))
    await uow.objections.put(Objection(subject, Purpose.ANALYTICS, True, now))
    await uow.improvement_choices.add(improvement_choice(subject, now))
    await uow.policy_notices.add(PolicyNotice(uuid.uuid4(), subject, 1, now, now))
    await uow.analytics_events.add_many([analytics_event(now.date())])
    await uow.staff.put(StaffMember(subject, StaffRole.SUPPORT, now))
