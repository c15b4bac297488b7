"""The README's run command: `dreamina serve` starts the embedded profile from nothing and serves the API."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx

from tests import processes
from tests.loopback import http

from .helpers import TOKEN_IN_LINK


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_serve(
    tmp_path: Path, log_name: str = "serve.log", **settings: str
) -> tuple[subprocess.Popen[str], str, Path, Any]:
    """``dreamina serve`` as the README runs it, in its own process; waits until it answers. ``settings``: more
    ``DREAMINA_*`` variables (e.g. a shared database for a second process)."""
    port = _free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env.update({"DREAMINA_PORT": str(port), "DREAMINA_DATA_DIR": str(data), "DREAMINA_ARGON2_MEMORY_KIB": "8192"})
    env.update(settings)
    log_file = (tmp_path / log_name).open("w")  # a file, not a pipe: an undrained pipe would stall the server
    process = processes.start(["serve"], env, log_file)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if http.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not come up in 30 s"
        time.sleep(0.2)
    return process, base, data, log_file


def _sign_up(base: str, email: str, outbox: Path | None = None) -> dict[str, str]:
    """Sign up and sign in; with ``outbox``, follow the verification link mailed there first."""
    body = {
        "email": email,
        "password": "correct horse battery staple",
        "birth_date": "1990-01-01",
        "country": "US",
        "region": "US-CA",
        "accept_policy_version": 1,
    }
    assert http.post(f"{base}/v1/accounts", json=body, timeout=10).status_code == 201
    if outbox is not None:
        token = _mailed(outbox, email, TOKEN_IN_LINK)
        assert http.post(f"{base}/v1/auth/verify-email", json={"token": token}, timeout=10).status_code == 204
    token = http.post(f"{base}/v1/auth/token", json={"email": email, "password": body["password"]}, timeout=10)
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _mailed(outbox: Path, email: str, pattern: re.Pattern[str]) -> str:
    """What ``pattern`` finds in the newest outbox message to ``email`` (the embedded profile's mail is files)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            parsed = BytesParser(policy=policy.default).parsebytes(message.read_bytes())
            body = parsed.get_body(preferencelist=("plain",))
            found = pattern.search(body.get_content() if body is not None else "")
            if parsed["To"] == email and found:
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError("nothing was mailed")


def test_the_run_command_runs_privacy_jobs(tmp_path: Path) -> None:
    """Issue 13, finding 1: an export requested from the server the README starts completes within 60 s, with no
    other process running (the API process runs the privacy jobs, as it runs generation jobs and sweeps)."""
    process, base, data, log_file = _start_serve(tmp_path)
    try:
        headers = _sign_up(base, "export.test@example.com", data / "outbox")
        accepted = http.post(f"{base}/v1/privacy/requests", json={"type": "export"}, headers=headers, timeout=10)
        assert accepted.status_code == 202, accepted.text
        request_id = accepted.json()["id"]
        code = _mailed(data / "outbox", "export.test@example.com", re.compile(r"\b(\d{6})\b"))
        verified = http.post(
            f"{base}/v1/privacy/requests/{request_id}/verify", json={"code": code}, headers=headers, timeout=10
        )
        assert verified.status_code == 200, verified.text
        started = time.monotonic()
        status = verified.json()["status"]
        while status != "completed" and time.monotonic() - started < 60:
            time.sleep(0.5)
            status = http.get(f"{base}/v1/privacy/requests/{request_id}", headers=headers, timeout=10).json()["status"]
        assert status == "completed", f"the export is still {status} after 60 s"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()


def test_serve_runs_the_embedded_profile(tmp_path: Path) -> None:
    process, base, data, log_file = _start_serve(tmp_path)
    try:
        me = http.get(f"{base}/v1/me", headers=_sign_up(base, "serve.test@example.com"), timeout=10)
        assert me.json()["email"] == "serve.test@example.com"
        assert http.get(f"{base}/v1/privacy/policy").json()["version"] == 1
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


def test_production_refuses_to_start_with_the_payment_sandbox(tmp_path: Path) -> None:
    """Issue 13, finding 12: the production profile refuses unsafe defaults at start-up, naming the setting, in one
    JSON line and a non-zero exit code (a real process, as an operator starts it)."""
    env = production_env(tmp_path)
    for refused in settings_refused(env):
        assert "DREAMINA_PAYMENTS=stripe" in refused["error"]


def production_env(tmp_path: Path) -> dict[str, str]:
    """A production profile that starts but for the payment sandbox (the variables, none from the test's own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env.update(
        {
            "DREAMINA_PROFILE": "production",
            "DREAMINA_DATABASE_URL": "postgresql+asyncpg://dreamina:dreamina@127.0.0.1:5432/postgres",
            "DREAMINA_MASTER_KEY": "A" * 44,
            "DREAMINA_REDIS_URL": "redis://127.0.0.1:6379/0",
            "DREAMINA_OBJECT_STORE": "s3",
            "DREAMINA_S3_BUCKET": "dreamina",
            "DREAMINA_MAIL_BACKEND": "smtp",
            "DREAMINA_SMTP_HOST": "127.0.0.1",
            "DREAMINA_DATA_DIR": str(tmp_path),
            "DREAMINA_PROVENANCE_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----",
            "DREAMINA_PROVENANCE_CERTIFICATE_CHAIN": "-----BEGIN CERTIFICATE-----",
        }
    )
    return env


def settings_refused(env: dict[str, str]) -> list[dict[str, Any]]:
    """What serve, worker and privacy-worker print when their settings are refused: each exits 2 with one JSON line
    (``startup_refused``) on stderr."""
    lines = []
    for command in ("serve", "worker", "privacy-worker"):
        done = subprocess.run(
            [sys.executable, "-m", "dreamina.entrypoints.cli", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, (command, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        refused: dict[str, Any] = json.loads(line)
        assert refused["event"] == "startup_refused"
        lines.append(refused)
    return lines


def _start_up_refused(tmp_path: Path, command: str, settings: dict[str, str]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env.update({"DREAMINA_DATA_DIR": str(tmp_path / "data"), **settings})
    done = subprocess.run(
        [sys.executable, "-m", "dreamina.entrypoints.cli", command], env=env, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 3, (command, done.stdout[-2000:], done.stderr[-2000:])
    (line,) = done.stderr.strip().splitlines()  # one JSON line, no traceback
    refused: dict[str, Any] = json.loads(line)
    assert refused["event"] == "startup_failed"
    return refused


def test_a_database_that_never_answers_is_waited_for_then_one_json_line(tmp_path: Path) -> None:
    """Issue 13, finding 11: serve and the workers died with raw tracebacks when PostgreSQL was down at start-up."""
    down = f"postgresql+asyncpg://dreamina:secret-pw@127.0.0.1:{_free_port()}/dreamina"
    started = time.monotonic()
    for command in ("serve", "privacy-worker"):
        refused = _start_up_refused(
            tmp_path, command, {"DREAMINA_DATABASE_URL": down, "DREAMINA_STARTUP_WAIT_SECONDS": "2"}
        )
        assert "did not answer within 2 s" in refused["error"] and "secret-pw" not in refused["error"]
        assert "DREAMINA_STARTUP_WAIT_SECONDS" in refused["hint"]
    assert time.monotonic() - started >= 4  # it waited, then gave up


def test_an_unmigrated_database_is_refused_with_the_command_that_fixes_it(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Before: `serve` on an unmigrated database died with "relation policy_versions does not exist"."""
    refused = _start_up_refused(
        tmp_path, "serve", {"DREAMINA_DATABASE_URL": empty_database_url, "DREAMINA_AUTO_MIGRATE": "no"}
    )
    assert "never migrated" in refused["error"]
    assert "dreamina db upgrade" in refused["hint"]
