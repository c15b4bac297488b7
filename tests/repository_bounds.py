"""A pytest plugin: no test reads or writes a file beside the repository (such as ``../shared``), which a clone
elsewhere would not have. An audit hook sees every ``open`` in the test processes; a path under the checkout's
parent folder but outside the checkout fails the session. Temporary folders, the system and the tool chain are
elsewhere and unaffected."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = str(Path(__file__).resolve().parents[1])
BESIDE = os.path.dirname(REPOSITORY) + os.sep
# the interpreter's own folders, resolved: a .venv linked to another checkout's is still the tool chain
TOOL_CHAIN = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.exec_prefix, sys.base_prefix)})
OUTSIDE: set[str] = set()


def _on_event(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not args or not isinstance(args[0], str | bytes):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    inside = path == REPOSITORY or path.startswith((REPOSITORY + os.sep, *TOOL_CHAIN))
    if path.startswith(BESIDE) and not inside:
        OUTSIDE.add(path)


def pytest_configure(config: pytest.Config) -> None:
    if BESIDE != os.sep:  # a checkout at the root of the file system has nothing beside it to guard
        sys.addaudithook(_on_event)


@pytest.fixture(scope="session", autouse=True)
def no_test_reads_outside_the_repository() -> Iterator[None]:
    yield
    assert not OUTSIDE, f"tests opened files outside the repository: {sorted(OUTSIDE)[:5]}"
