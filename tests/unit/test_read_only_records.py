"""The records made by the dozen on hot paths (``dreamina.ports.records``) stay read-only where it is checked:
mypy refuses an assignment to any of their fields, as it does for a frozen dataclass; at run time they are slotted
dataclasses that ``dataclasses.replace`` copies."""

from __future__ import annotations

import dataclasses
import textwrap
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mypy import api as mypy

from dreamina.domain.generation.views import GenerationView, OutputView
from dreamina.ports.consent import ConsentMethod, ConsentRecord

READ_ONLY = [ConsentRecord, GenerationView, OutputView]


def _assignments(record: type) -> str:
    lines = [f"def touch_{record.__name__}(r: {record.__name__}) -> None:"]
    lines += [f"    r.{field.name} = r.{field.name}" for field in dataclasses.fields(record)]
    return "\n".join(lines)


def test_mypy_refuses_an_assignment_to_every_field(tmp_path: Path) -> None:
    imports = "".join(f"from {r.__module__} import {r.__name__}\n" for r in READ_ONLY)
    source = imports + "\n\n" + "\n\n\n".join(_assignments(r) for r in READ_ONLY)
    checked = tmp_path / "assigns.py"
    checked.write_text(textwrap.dedent(source) + "\n")
    out, _, status = mypy.run(["--no-incremental", "--strict", "--no-error-summary", str(checked)])
    assert status == 1
    refused = {line for line in out.splitlines() if "is read-only" in line}
    want = sum(len(dataclasses.fields(r)) for r in READ_ONLY)
    assert len(refused) == want, out
    # and nothing else was wrong with the snippet (a mistake in it would make the count above meaningless)
    assert len(out.splitlines()) == want, out


def test_a_record_without_an_assignment_type_checks(tmp_path: Path) -> None:
    checked = tmp_path / "reads.py"
    checked.write_text(
        "from dreamina.ports.consent import ConsentRecord\n\n\ndef gpc(r: ConsentRecord) -> bool:\n    return r.gpc\n"
    )
    out, _, status = mypy.run(["--no-incremental", "--strict", str(checked)])
    assert status == 0, out


@pytest.mark.parametrize("record", READ_ONLY)
def test_they_are_slotted_dataclasses(record: type) -> None:
    assert dataclasses.is_dataclass(record)
    assert "__slots__" in vars(record)


def test_replace_copies_and_leaves_the_original() -> None:
    original = ConsentRecord(
        uuid.uuid4(),
        uuid.uuid4(),
        None,
        True,
        True,
        False,
        False,
        False,
        ConsentMethod.API,
        3,
        "0" * 64,
        datetime(2026, 11, 30, tzinfo=UTC),
    )
    changed = dataclasses.replace(original, gpc=True)
    assert changed.gpc and not original.gpc
    assert changed != original and dataclasses.replace(changed, gpc=False) == original
