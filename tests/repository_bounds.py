"""A pytest plugin: no test reads or writes a file beside the repository (such as ``../shared``), which a clone
elsewhere would not have. An audit hook sees every ``open`` in the test processes; a path inside a folder or file
that already sat beside the checkout when the session started fails the session. What the session itself makes
there (a clone in the temp folder has pytest's and tempfile's folders beside it), the system and the tool chain are
not "beside"."""

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
SIBLINGS: set[str] = set()  # what sat beside the checkout at the start (pytest's own temp roots left out)


def _on_event(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not args or not isinstance(args[0], str | bytes):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if not path.startswith(BESIDE) or path.startswith((REPOSITORY + os.sep, *TOOL_CHAIN)):
        return
    if path[len(BESIDE) :].split(os.sep, 1)[0] in SIBLINGS:
        OUTSIDE.add(path)


def pytest_configure(config: pytest.Config) -> None:
    if BESIDE == os.sep:  # a checkout at the root of the file system has nothing beside it to guard
        return
    repository = os.path.basename(REPOSITORY)
    SIBLINGS.update(n for n in os.listdir(BESIDE) if n != repository and not n.startswith("pytest-of-"))
    sys.addaudithook(_on_event)


@pytest.fixture(scope="session", autouse=True)
def no_test_reads_outside_the_repository() -> Iterator[None]:
    yield
    assert not OUTSIDE, f"tests opened files outside the repository: {sorted(OUTSIDE)[:5]}"
