"""The retention schedule as data (policy section 6, guarantee G7).

One declaration says, for every kind of record we keep: which data-map store (or object prefix) it lives in, how
long it lives, what happens when its time is up, and which retention task enforces that. ``GET /v1/privacy/policy``
publishes it; tests tie it to the data map and to the tasks the composition root registers, both ways, and prove
every entry with an injected clock. ``RetentionRule.action`` in the data map says what erasure does to a field (a
legal hold is pseudonymised); the schedule's ``action`` is what the sweep does when the period ends.

This module holds the vocabulary; each module declares its own entries beside its data-map stores
(``domain/<module>/data_map.py``) and the composition root joins them into the published schedule.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from dreamina.domain.privacy.vocabulary import DataCategory

LEGAL_RECORD_DAYS = 365 * 3  # limitation period for claims about how we handled a subject's data


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


def days_from(days: int, starts: str) -> RetentionPeriod:
    """A fixed period of ``days`` counted from ``starts``."""
    return RetentionPeriod(PeriodKind.DAYS, days, starts)


ACCOUNT_LIFETIME_PERIOD = RetentionPeriod(PeriodKind.ACCOUNT_LIFETIME, None, "the account's creation")


def enforcing_tasks(schedule: Iterable[ScheduleEntry]) -> set[str]:
    """Names of every task the schedule says enforces it."""
    return {task for entry in schedule for task in entry.tasks}


def schedule_as_dicts(schedule: Iterable[ScheduleEntry]) -> list[dict[str, object]]:
    return [entry.as_dict() for entry in schedule]
