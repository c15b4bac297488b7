"""The hexagonal rules hold: import-linter's contracts from pyproject.toml, checked as part of the suite."""

from __future__ import annotations

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept(capsys) -> None:  # type: ignore[no-untyped-def]
    previous = Path.cwd()
    os.chdir(ROOT)  # import-linter reads pyproject.toml from the working directory
    try:
        exit_code = lint_imports(no_cache=True)
    finally:
        os.chdir(previous)
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "0 broken" in report
