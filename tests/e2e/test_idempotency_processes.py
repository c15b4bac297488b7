"""Idempotency-Key across processes: two `dreamina serve` processes over one database (SQLite file, PostgreSQL) get
the same key at once from many clients; one generation is created and charged once, every client gets its answer."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.loopback import http

from .test_serve_process import _sign_up, _start_serve

CLIENTS = 12
IMAGE = {"kind": "image", "prompt": "two processes, one key", "params": {"count": 2}}


def test_one_key_sent_to_two_server_processes_at_once_charges_once(database_url: str, tmp_path: Path) -> None:
    shared = {"DREAMINA_DATABASE_URL": database_url, "DREAMINA_RATE_LIMIT_CONTENT_PER_MINUTE": "100000"}
    servers = [_start_serve(tmp_path, f"serve{n}.log", **shared) for n in range(2)]  # one after the other: one key
    try:
        (_, first, data, _), (_, second, _, _) = servers
        auth = _sign_up(first, "two.processes@example.com", data / "outbox")
        start = http.get(f"{first}/v1/billing/balance", headers=auth, timeout=10).json()["credits"]
        keyed = {**auth, "Idempotency-Key": "twin-" + uuid.uuid4().hex}

        def submit(n: int) -> httpx.Response:
            base = (first, second)[n % 2]
            return http.post(f"{base}/v1/generations", json=IMAGE, headers=keyed, timeout=60)

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(submit, range(CLIENTS)))
        assert [a.status_code for a in answers] == [202] * CLIENTS, [a.text for a in answers]
        assert len({a.json()["id"] for a in answers}) == 1
        assert sum(a.headers.get("Idempotent-Replayed") != "true" for a in answers) == 1
        balance = http.get(f"{second}/v1/billing/balance", headers=auth, timeout=10).json()["credits"]
        assert balance == start - 8  # reserved once (the job may have run meanwhile: captured, not charged again)
        listed = http.get(f"{second}/v1/generations", headers=auth, timeout=10).json()["items"]
        assert len(listed) == 1
    finally:
        for process, _, _, log_file in servers:
            process.terminate()
            process.wait(timeout=20)
            log_file.close()
