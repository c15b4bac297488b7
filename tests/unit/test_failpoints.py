"""Failpoints (``dreamina/failpoints.py``): a named point kills its process with a real SIGKILL when armed, does
nothing when not, and every point the code hits is one the settings accept."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dreamina import failpoints

SOURCE = Path(__file__).resolve().parents[2] / "src" / "dreamina"


def test_specs_are_parsed_with_their_filters() -> None:
    assert failpoints.parse("") == {}
    assert failpoints.parse(" mail.after_send , generation.after_effect=outputs_stored,generation.after_effect=x") == {
        "mail.after_send": None,
        "generation.after_effect": frozenset({"outputs_stored", "x"}),
    }
    # an unfiltered entry wins over filters of the same point, in either order
    assert failpoints.parse("mail.after_send=a,mail.after_send") == {"mail.after_send": None}
    assert failpoints.parse("mail.after_send,mail.after_send=a") == {"mail.after_send": None}
    with pytest.raises(ValueError, match=r"unknown failpoint 'mail\.after_sent'"):
        failpoints.parse("mail.after_sent")


def test_every_point_the_code_hits_is_declared() -> None:
    hit = re.compile(r'failpoints\.hit\(\s*"([^"]+)"')
    used = {name for path in SOURCE.rglob("*.py") for name in hit.findall(path.read_text(encoding="utf-8"))}
    assert used == set(failpoints.POINTS)  # each declared point is placed somewhere, and only those


def test_an_unarmed_point_does_nothing() -> None:
    assert failpoints.armed() == {}
    failpoints.hit("mail.after_send", "welcome")  # still alive


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_an_armed_point_kills_its_process_with_sigkill_and_says_where() -> None:
    done = _run(
        "from dreamina import failpoints\n"
        "failpoints.arm('generation.after_effect=outputs_stored')\n"
        "failpoints.hit('generation.after_effect', 'provider_submitted')\n"  # another detail: passes
        "failpoints.hit('mail.after_send', 'welcome')\n"  # not armed: passes
        "print('still alive', flush=True)\n"
        "try:\n"
        "    failpoints.hit('generation.after_effect', 'outputs_stored')\n"
        "finally:\n"
        "    print('a finally block ran')\n"  # SIGKILL: it never does
    )
    assert done.returncode == -signal.SIGKILL
    assert done.stdout == "still alive\n"
    assert done.stderr.strip() == (
        '{"event": "failpoint_hit", "level": "warning", "failpoint": "generation.after_effect", '
        '"detail": "outputs_stored"}'
    )
