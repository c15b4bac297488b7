"""Guarantee mutations: each named edit breaks one privacy guarantee; the proof tests named with it must fail.

Every mutation is applied alone to a scratch copy of ``src`` and ``tests`` (the checkout is never touched), then its
named tests run there (``pytest -x``: the first failure is enough). A mutation the tests do not catch is a proof
that cannot fail. Before any mutation, the union of the named tests runs on the unmutated copy and must pass, so a
"caught" mutation is never a test that was failing anyway. The list lives in ``scripts/mutation_list.py``.

    scripts/mutations                 # every mutation, two at a time
    scripts/mutations G5 tokens       # only those whose name contains one of the words
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mutation_list import MUTATIONS, Mutation

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"


def _scratch(into: Path) -> Path:
    for part in ("src", "tests"):
        shutil.copytree(ROOT / part, into / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "alembic.ini"):
        shutil.copy2(ROOT / part, into / part)
    return into


def _apply(copy: Path, mutation: Mutation) -> None:
    """Every edit of the mutation, its first and then ``more`` in order (several may change the same file)."""
    for file, old, new in ((mutation.file, mutation.old, mutation.new), *mutation.more):
        path = copy / file
        text = path.read_text()
        if text.count(old) != 1:
            raise SystemExit(f"{mutation.name}: the code it changes is not in {file} exactly once (stale mutation)")
        path.write_text(text.replace(old, new))


def _pytest(copy: Path, tests: list[str], workers: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.setdefault("DREAMINA_TEST_POSTGRES_URL", "postgresql+asyncpg://dreamina:dreamina@127.0.0.1:5432/postgres")
    env.setdefault("DREAMINA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    command = [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", str(workers), *tests]
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=1800)  # noqa: S603


def _try(mutation: Mutation) -> tuple[Mutation, str, float]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        copy = _scratch(Path(tmp))
        _apply(copy, mutation)
        done = _pytest(copy, list(mutation.tests))
    # 1: tests failed (caught); 0: all passed (missed); anything else: the run itself broke (collection, usage)
    verdict = {0: "MISSED", 1: "caught"}.get(done.returncode, f"broken (exit {done.returncode})")
    if verdict != "caught":
        print(done.stdout[-3000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return mutation, verdict, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("words", nargs="*", help="run only mutations whose name contains one of these")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of the named tests")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.words or any(w.lower() in m.name.lower() for w in args.words)]
    if not args.no_baseline:
        tests = sorted({t for m in chosen for t in m.tests})
        with tempfile.TemporaryDirectory(prefix="mutation-baseline-") as tmp:
            baseline = _pytest(_scratch(Path(tmp)), tests, workers=2)
        if baseline.returncode != 0:
            print(baseline.stdout[-5000:], file=sys.stderr)
            raise SystemExit("the named tests fail without any mutation: fix them first")
        print(f"baseline: the {len(tests)} named test files pass unmutated")
    missed = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for mutation, verdict, seconds in pool.map(_try, chosen):
            missed += verdict != "caught"
            print(f"{verdict:8} {seconds:6.1f} s  {mutation.name}: {mutation.what}", flush=True)
    print(f"{len(chosen) - missed} of {len(chosen)} mutations caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
