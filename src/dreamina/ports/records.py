"""Read-only records that a hot path makes by the dozen.

Every port record is a frozen dataclass, except where a request makes many of them: a frozen dataclass's
``__init__`` sets each field through ``object.__setattr__``, and for the twelve fields of a consent record that is
1.5 us a record against 0.2 for a plain one (measured on the machine of the fourteenth session). A consent choice
reads twenty-one consent records: 5% of its CPU in process; a page of generations makes twenty views of each kind
(``domain/generation/views.py``). (An analytics batch makes ten events: no change that could be told from the noise,
so they stay frozen.) :func:`read_only_record` makes a plain slotted dataclass
that type checkers treat as frozen (PEP 681's ``frozen_default``): an assignment to a field is a mypy error, as for a
frozen dataclass, and construction costs what a plain one does. What it gives up: such a record is not hashable
(none is a key or a set member: hashing one raises TypeError), and an assignment is caught by mypy, not at run time
(``tests/unit/test_read_only_records.py`` checks that mypy refuses one to every field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

R = TypeVar("R")


@dataclass_transform(frozen_default=True)
def read_only_record(cls: type[R]) -> type[R]:
    """``@dataclass(frozen=True, slots=True)`` to mypy, ``@dataclass(slots=True)`` at run time (see the module)."""
    return dataclass(slots=True)(cls)
