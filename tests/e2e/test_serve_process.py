"""The README's run command: `dreamina serve` starts the embedded profile from nothing and serves the API."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_the_embedded_profile(tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env.update({"DREAMINA_PORT": str(port), "DREAMINA_DATA_DIR": str(data), "DREAMINA_ARGON2_MEMORY_KIB": "8192"})
    log_file = (tmp_path / "serve.log").open("w")  # a file, not a pipe: an undrained pipe would stall the server
    process = subprocess.Popen(
        [sys.executable, "-m", "dreamina.entrypoints.cli", "serve"],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not come up in 30 s"
            time.sleep(0.2)
        body = {
            "email": "serve.test@example.com",
            "password": "correct horse battery staple",
            "birth_date": "1990-01-01",
            "country": "US",
            "region": "US-CA",
            "accept_policy_version": 1,
        }
        assert httpx.post(f"{base}/v1/accounts", json=body, timeout=10).status_code == 201
        token = httpx.post(f"{base}/v1/auth/token", json={"email": body["email"], "password": body["password"]})
        me = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert me.json()["email"] == "serve.test@example.com"
        assert httpx.get(f"{base}/v1/privacy/policy").json()["version"] == 1
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()
    output = (tmp_path / "serve.log").read_text()

    assert (data / "dreamina.sqlite3").exists()
    assert stat.S_IMODE((data / "master.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "dreamina.sqlite3").stat().st_mode) & 0o077 == 0
    assert len(list((data / "outbox").glob("*.eml"))) == 1
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line["event"] == "request" and line["route"] == "/v1/me" for line in lines)
    assert "serve.test@example.com" not in output
    # SQL statements are not logged at INFO (volume, and statement text is no business of the operator's log)
    assert not any(str(line.get("logger", "")).startswith("sqlalchemy") for line in lines)
