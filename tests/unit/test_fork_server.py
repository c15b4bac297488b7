"""The fork server the process tests start ``dreamina`` commands from (``tests/processes.py``): each command is a real
process with the environment, working directory, arguments and output it was given, its exit code as ``waitpid`` saw
it, and a SIGKILL kills it for real."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tests import processes
from tests.e2e.test_serve_process import _start_serve


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    return {**env, "DREAMINA_DATA_DIR": str(tmp_path / "data"), **more}


def test_a_command_gets_its_own_environment_arguments_and_output(tmp_path: Path) -> None:
    log = tmp_path / "settings.txt"  # the settings as JSON, not log lines
    with log.open("ab") as out:
        code = processes.run(["settings"], _env(tmp_path, DREAMINA_PORT="8123"), out)
    assert code == 0, log.read_text()
    shown = json.loads(log.read_text())
    assert shown["port"] == 8123 and shown["data_dir"] == str(tmp_path / "data")  # read after the fork


def test_exit_codes_come_through(tmp_path: Path) -> None:
    log = tmp_path / "refused.log"
    with log.open("ab") as out:
        code = processes.run(["serve"], _env(tmp_path, DREAMINA_PROFILE="production"), out)
    assert code == 2, log.read_text()
    assert json.loads(log.read_text().strip().splitlines()[-1])["event"] == "startup_refused"


def test_sigkill_kills_a_running_server_for_real(tmp_path: Path) -> None:
    server, _, _, log_file = _start_serve(tmp_path)  # started through the fork server, up and answering
    try:
        assert server.pid != os.getpid()
        os.kill(server.pid, 0)  # a process of its own, alive
        server.kill()
        assert server.wait(timeout=10) == -signal.SIGKILL
        with pytest.raises(ProcessLookupError):
            os.kill(server.pid, 0)  # gone, and reaped
    finally:
        if server.poll() is None:
            server.kill()
        log_file.close()
