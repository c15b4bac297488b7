"""Failpoints: named places inside a step, between its effect and the record of it, where a test has the process
killed for real (``SIGKILL``: no ``finally``, no shutdown, no flush), to prove that the restarted process neither
loses nor duplicates the effect.

``DREAMINA_FAILPOINTS`` arms them in ``serve``, ``worker``, ``privacy-worker`` and ``sweep``: a comma-separated list
of names from :data:`POINTS`, each optionally ``name=detail`` to kill only where the code passes that detail (a step
name, a mail kind, a retention task). The production profile refuses to start with it set (``settings.py``). Unset,
:func:`hit` costs one truthiness test of an empty dict; the variable is read once, when the process starts
(:func:`arm`).
"""

from __future__ import annotations

import json
import os
import signal
import sys

POINTS: dict[str, str] = {
    "privacy.step.after_effect": "a privacy job's step had its effect (archive written, holder erased) and is not "
    "recorded yet; detail: the step (archive_built, sessions_revoked, erased:<holder>, processors_called)",
    "privacy.notice.after_send": "a processor was sent an erasure notification (deletion call or webhook) and its "
    "outcome is not recorded yet; detail: the processor",
    "mail.after_send": "the mailer took a message that is still in the outbox; detail: the mail kind",
    "generation.after_effect": "a generation job's effect happened and its state is not committed; detail: "
    "provider_submitted (the provider has the request, its job id is not stored), outputs_stored (outputs written, "
    "job not succeeded), charge_settled (credits captured or released, job not final)",
    "retention.after_whole_periods": "a retention task's transaction dropped whole periods and committed, and the "
    "sweep has not counted it (its other transaction may be in flight); detail: the task",
}

_armed: dict[str, frozenset[str] | None] = {}  # name -> the details that kill (None: every hit)


def parse(spec: str) -> dict[str, frozenset[str] | None]:
    """``"a, b=x, b=y"`` -> ``{"a": None, "b": {"x", "y"}}``; ``ValueError`` naming an unknown failpoint."""
    armed: dict[str, frozenset[str] | None] = {}
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        name, _, detail = (part.strip() for part in entry.partition("="))
        if name not in POINTS:
            raise ValueError(f"unknown failpoint {name!r} (known: {', '.join(sorted(POINTS))})")
        if not detail or armed.get(name, frozenset()) is None:
            armed[name] = None
            continue
        armed[name] = (armed.get(name) or frozenset()) | {detail}
    return armed


def arm(spec: str) -> None:
    """Arm the failpoints ``spec`` names (once, at process start); an empty spec disarms every one."""
    _armed.clear()
    _armed.update(parse(spec))


def armed() -> dict[str, frozenset[str] | None]:
    return dict(_armed)


def hit(name: str, detail: str = "") -> None:
    """Kill this process with ``SIGKILL`` here if ``name`` (with ``detail``, when filtered) is armed."""
    if not _armed:
        return
    if name not in _armed:
        return
    details = _armed[name]
    if details is not None and detail not in details:
        return
    line = {"event": "failpoint_hit", "level": "warning", "failpoint": name, "detail": detail}
    sys.stdout.flush()
    os.write(sys.stderr.fileno(), (json.dumps(line) + "\n").encode())
    os.kill(os.getpid(), signal.SIGKILL)
