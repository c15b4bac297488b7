"""Content credentials end to end (issue 17): `dreamina serve` in the embedded profile generates an image and a video
with the offline renderer; the downloaded outputs carry an intact C2PA manifest signed by the development signer that
says they are AI-generated, and nothing personal; `dreamina provenance verify` (a real process) reads them, trusting
the signer only when the trust anchors setting names its CA."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image

from dreamina.adapters.provenance_signer import DEVELOPMENT_SIGNER_FILE
from tests.loopback import http
from tests.provenance import assert_generated_by_ai, assert_nothing_personal

from .test_serve_process import _sign_up, _start_serve, production_env, settings_refused

EMAIL = "provenance.test@example.com"
PROMPTS = {"image": "my daughter Mila on her first bike", "video": "waves over Grandma Rosa's garden"}


def _generate(base: str, headers: dict[str, str], kind: str) -> dict[str, Any]:
    params = {"count": 1} if kind == "image" else {"duration_seconds": 1}
    submitted = http.post(
        f"{base}/v1/generations", json={"kind": kind, "prompt": PROMPTS[kind], "params": params}, headers=headers
    )
    assert submitted.status_code == 202, submitted.text
    deadline = time.monotonic() + 60
    while True:
        got: dict[str, Any] = http.get(f"{base}/v1/generations/{submitted.json()['id']}", headers=headers).json()
        if got["status"] == "succeeded":
            return got
        assert got["status"] in ("queued", "running"), got
        assert time.monotonic() < deadline, "the generation did not finish in 60 s"
        time.sleep(0.2)


def _verify(path: Path, data: Path, **settings: str) -> tuple[int, dict[str, Any]]:
    """`dreamina provenance verify FILE` in a process of its own, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env.update({"DREAMINA_DATA_DIR": str(data), **settings})
    done = subprocess.run(
        [sys.executable, "-m", "dreamina.entrypoints.cli", "provenance", "verify", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, json.loads(done.stdout)


def test_served_outputs_carry_content_credentials_and_nothing_personal(tmp_path: Path) -> None:
    process, base, data, log_file = _start_serve(tmp_path)
    try:
        headers = _sign_up(base, EMAIL, data / "outbox")
        subject_id = http.get(f"{base}/v1/me", headers=headers).json()["id"]
        downloads: list[tuple[str, str, bytes, str]] = []
        for kind in ("image", "video"):
            generation = _generate(base, headers, kind)
            [output] = generation["outputs"]
            body = http.get(output["url"])
            assert body.status_code == 200
            downloads.append((kind, output["content_type"], body.content, generation["id"]))
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()

    assert stat.S_IMODE((data / DEVELOPMENT_SIGNER_FILE).stat().st_mode) == 0o600
    assert [d[1] for d in downloads] == ["image/png", "video/mp4"]
    ids = [generation_id for *_, generation_id in downloads]
    for kind, content_type, content, _ in downloads:
        assert_generated_by_ai(content, content_type, provider="offline")
        assert_nothing_personal(content, content_type, *PROMPTS.values(), "Mila", EMAIL, subject_id, *ids)

        saved = tmp_path / f"output-{kind}{'.png' if kind == 'image' else '.mp4'}"
        saved.write_bytes(content)
        status, summary = _verify(saved, data)
        assert status == 0, summary
        assert summary["generator"]["name"] == "Dreamina" and summary["software_agent"] == "offline"
        assert summary["action"] == "c2pa.created"
        assert (
            summary["digital_source_type"] == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
        )
        assert summary["validation_status"] == ["signingCredential.untrusted"] and summary["trusted"] is False
        assert summary["signer"] == "Dreamina development signer - not trusted"

    # the trust anchors setting: naming the development CA makes its signer trusted (production names real roots)
    ca = x509.load_pem_x509_certificates((data / DEVELOPMENT_SIGNER_FILE).read_bytes())[-1]
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    status, summary = _verify(tmp_path / "output-image.png", data, DREAMINA_PROVENANCE_TRUST_ANCHORS_FILE=str(anchors))
    assert status == 0 and summary["trusted"] is True and summary["validation_status"] == []

    unsigned = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(unsigned)
    status, summary = _verify(unsigned, data)
    assert status == 1 and "no content credentials" in summary["error"]


def test_production_refuses_to_start_without_a_signer(tmp_path: Path) -> None:
    """Production never signs with the development signer: without a configured key and chain, each process refuses
    at start-up in one JSON line naming the settings (as an operator starts it, a real process)."""
    env = production_env(tmp_path)
    del env["DREAMINA_PROVENANCE_SIGNING_KEY"], env["DREAMINA_PROVENANCE_CERTIFICATE_CHAIN"]
    for refused in settings_refused(env):
        assert "DREAMINA_PROVENANCE_SIGNING_KEY" in refused["error"]
        assert "DREAMINA_PROVENANCE_CERTIFICATE_CHAIN" in refused["error"]
    assert not (tmp_path / DEVELOPMENT_SIGNER_FILE).exists()
