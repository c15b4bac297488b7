"""G7, policy section 6: the retention schedule, the data map and the registered retention tasks agree both ways."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container, declared_data_map, memory_database
from dreamina.domain.privacy.datamap import FieldDeclaration, StoreDeclaration, schedule_gaps
from dreamina.domain.privacy.schedule import ScheduleEntry
from dreamina.domain.privacy.vocabulary import DataCategory, RetentionRule
from dreamina.settings import load_settings

DATA_MAP = declared_data_map()
RETENTION_SCHEDULE = DATA_MAP.schedule


def schedule_entry(key: str) -> ScheduleEntry:
    return next(e for e in RETENTION_SCHEDULE if e.key == key)


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}),
        uow=memory_database().unit_of_work,
        passwords=Argon2PasswordHasher.fast(),
    )


def _registered(container: Container) -> list[str]:
    return [t.name for t in container.privacy.retention.tasks]


def test_schedule_data_map_and_registered_tasks_agree(container: Container) -> None:
    assert schedule_gaps(DATA_MAP, RETENTION_SCHEDULE, _registered(container)) == []


def test_a_period_nobody_enforces_is_a_gap(container: Container) -> None:
    stores = dict(DATA_MAP.stores)
    stores["thumbnails"] = StoreDeclaration(
        "thumbnails",
        "previews",
        {"made_at": FieldDeclaration(DataCategory.CONTENT, "when", retention=RetentionRule("x", days=30))},
    )
    gaps = schedule_gaps(replace(DATA_MAP, stores=stores), RETENTION_SCHEDULE, _registered(container))
    assert gaps == ["thumbnails.made_at: its 30-day rule is enforced by no schedule entry with a task"]


def test_an_unscheduled_task_and_an_unregistered_one_are_gaps(container: Container) -> None:
    registered = [n for n in _registered(container) if n != "audit_events.legal_period_over"] + ["rogue.task"]
    gaps = schedule_gaps(DATA_MAP, RETENTION_SCHEDULE, registered)
    assert "entry audit_events: task audit_events.legal_period_over is not registered" in gaps
    assert "task rogue.task is registered but enforces no schedule entry" in gaps


def test_an_entry_must_name_declared_stores_and_fields(container: Container) -> None:
    wrong = replace(
        schedule_entry("one_time_codes"), stores=("privacy_requests", "nowhere"), fields=("code_hash", "pin")
    )
    gaps = schedule_gaps(DATA_MAP, [*RETENTION_SCHEDULE, replace(wrong, key="other")], _registered(container))
    assert "entry other: store nowhere is not in the data map" in gaps
    assert "entry other: field privacy_requests.pin is not in the data map" in gaps


def test_a_changed_period_breaks_the_tie(container: Container) -> None:
    changed = [
        replace(e, period=replace(e.period, days=200)) if e.key == "analytics_events" else e for e in RETENTION_SCHEDULE
    ]
    gaps = schedule_gaps(DATA_MAP, changed, _registered(container))
    assert any(g.startswith("analytics_events.day: its 180-day rule") for g in gaps)
