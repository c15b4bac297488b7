"""Processes killed at a chosen point inside a step (``DREAMINA_FAILPOINTS``, ``src/dreamina/failpoints.py``): start
a ``dreamina`` command as an operator runs it, wait for it to kill itself, restart it without the failpoint.

Each process writes its JSON log lines to a ``*.log`` file under the test's ``tmp_path``, where the suite's log
audit (``tests/log_audit.py``) scans them."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters.mail.outbox import read_outbox
from tests import processes

from .fault_rig import process_env

WAIT_SECONDS = 60.0
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def start(command: str, settings: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``dreamina <command> <args>`` with ``settings`` as its whole ``DREAMINA_*`` environment; it talks to
    127.0.0.1 directly, never through a proxy."""
    env = {k: v for k, v in process_env(settings).items() if k not in PROXY_VARIABLES}
    env["NO_PROXY"] = "*"
    with log.open("ab") as out:  # the child keeps its own descriptor; a file, never a pipe nobody reads
        return processes.start([command, *args], env, out)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


async def killed_at(process: subprocess.Popen[bytes], failpoint: str, log: Path) -> None:
    """The process killed itself with SIGKILL at ``failpoint`` (return code -9, and it said where)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while process.poll() is None:
        if time.monotonic() > deadline:
            stop(process)
            pytest.fail(f"no kill at {failpoint} within {WAIT_SECONDS:g} s; log:\n{tail(log)}")
        await asyncio.sleep(0.1)
    assert process.returncode == -signal.SIGKILL, f"exit {process.returncode}, not SIGKILL; log:\n{tail(log)}"
    name, _, detail = failpoint.partition("=")
    assert logged(log, "failpoint_hit", failpoint=name, detail=detail), f"not killed at {failpoint}:\n{tail(log)}"


async def until(condition: Callable[[], Awaitable[bool]], what: str, log: Path, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:g} s; log:\n{tail(log)}")
        await asyncio.sleep(0.25)


def stop(process: subprocess.Popen[Any]) -> int:
    """SIGTERM, as an operator stops it (SIGKILL if it does not stop); the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return int(process.returncode)


def logged(log: Path, event: str, **fields: str) -> int:
    """How many JSON lines of ``log`` are ``event`` with ``fields``."""
    count = 0
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # not a log line of ours (the audit reports those)
        if isinstance(record, dict):
            count += record.get("event") == event and all(record.get(k) == v for k, v in fields.items())
    return count


def mailed(outbox: Path, kind: str) -> int:
    """How many messages of ``kind`` the outbox folder holds (the embedded profile's stand-in for mailboxes)."""
    return sum(1 for message in read_outbox(outbox) if message.kind == kind)
