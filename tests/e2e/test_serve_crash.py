"""The embedded profile after a crash (issue 13, "Done when"): kill -9 of ``dreamina serve`` with generation jobs in
flight, then the README's run command again: every accepted job ends, succeeded or failed with its credits
refunded. Real processes, a real SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests import processes
from tests.loopback import http

from .fault_rig import free_port, process_env
from .test_serve_process import _sign_up

RENDER_SECONDS = 2
JOBS = 6
WELCOME_CREDITS, IMAGE_COST = 40, 4


def _serve(data: Path, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    settings = {
        "DREAMINA_PORT": str(port),
        "DREAMINA_DATA_DIR": str(data),
        "DREAMINA_ARGON2_MEMORY_KIB": "8192",
        "DREAMINA_OFFLINE_RENDER_SECONDS": str(RENDER_SECONDS),
        "DREAMINA_WORKER_CONCURRENCY": "2",
    }
    with log_path.open("ab") as log_file:  # the child keeps its own descriptor
        process = processes.start(["serve"], process_env(settings), log_file)
    deadline = time.monotonic() + 30
    while True:
        try:
            if http.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not come up in 30 s"
        time.sleep(0.2)


def _statuses(base: str, headers: dict[str, str], ids: list[str]) -> list[str]:
    return [http.get(f"{base}/v1/generations/{i}", headers=headers, timeout=10).json()["status"] for i in ids]


def test_kill_9_of_serve_with_jobs_in_flight_then_the_run_command_again_ends_every_job(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(data, port, tmp_path / "serve.log")
    try:
        headers = _sign_up(base, "crash.test@example.com")
        ids = []
        for n in range(JOBS):
            body = {"kind": "image", "prompt": f"a harbour at dusk, take {n}"}
            accepted = http.post(f"{base}/v1/generations", json=body, headers=headers, timeout=10)
            assert accepted.status_code == 202, accepted.text
            ids.append(accepted.json()["id"])
        deadline = time.monotonic() + 20
        while "running" not in _statuses(base, headers, ids):
            assert time.monotonic() < deadline, "no job started"
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGKILL)  # jobs in flight, and more queued
        server.wait(timeout=10)

    server = _serve(data, port, tmp_path / "serve.log")
    try:
        restarted = time.monotonic()
        while True:
            statuses = _statuses(base, headers, ids)
            if all(s in ("succeeded", "failed") for s in statuses):
                break
            assert time.monotonic() - restarted < 40, f"after 40 s: {statuses}"
            time.sleep(0.5)
        print(f"every job ended {time.monotonic() - restarted:.1f} s after the restart")
        balance = http.get(f"{base}/v1/billing/balance", headers=headers, timeout=10).json()
    finally:
        server.terminate()
        server.wait(timeout=20)
    charged = IMAGE_COST * statuses.count("succeeded")
    assert balance["credits"] == WELCOME_CREDITS - charged, (balance, statuses)  # failed ones refunded
