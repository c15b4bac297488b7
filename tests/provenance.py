"""Content credentials in tests: the real c2pa adapter with one development signer per test session (no fake signs
anything), and readers of what a signed file carries."""

from __future__ import annotations

import functools
import io
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import c2pa

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.provenance_c2pa import C2paContentCredentials
from dreamina.adapters.provenance_signer import SignerMaterial, development_signer
from dreamina.ports.clock import Clock
from dreamina.ports.provenance import TRAINED_ALGORITHMIC_MEDIA

# A development signer reports only that it is not trusted: anything else (a hash mismatch) is a broken manifest.
UNTRUSTED_CODES = frozenset({"signingCredential.untrusted"})


@functools.cache
def session_signer() -> SignerMaterial:
    """One development CA and signer for the whole test session (made in a directory of its own)."""
    return development_signer(Path(tempfile.mkdtemp(prefix="dreamina-test-signer-")))


def session_credentials(clock: Clock | None = None) -> C2paContentCredentials:
    """The real c2pa adapter, signing with the session's development signer."""
    material = session_signer()
    return C2paContentCredentials(
        lambda: material,
        service="Dreamina",
        version="test",
        clock=clock or MovableClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC)),
    )


def manifest_store(data: bytes, content_type: str, trust_anchors_pem: str | None = None) -> dict[str, Any]:
    """Everything c2pa-python's Reader reports about ``data``: the manifests and their validation."""
    settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    with c2pa.Context.from_dict(settings) as context, c2pa.Reader(content_type, io.BytesIO(data), context=context) as r:
        store: dict[str, Any] = json.loads(r.json())
    return store


def assert_generated_by_ai(data: bytes, content_type: str, provider: str) -> dict[str, Any]:
    """``data`` carries an intact manifest (hashes match; only the development signer's untrusted status) whose
    active manifest says: created by a trained algorithm, by this service, with ``provider``'s model. Returns the
    store."""
    store = manifest_store(data, content_type)
    codes = {entry["code"] for entry in store.get("validation_status") or []}
    assert codes <= UNTRUSTED_CODES, codes
    assert store["validation_state"] == "Valid"
    success = {entry["code"] for entry in store["validation_results"]["activeManifest"]["success"]}
    assert "claimSignature.validated" in success
    assert success & {"assertion.dataHash.match", "assertion.bmffHash.match"}, success  # the bytes are what was signed
    active = store["manifests"][store["active_manifest"]]
    [actions] = [a["data"]["actions"] for a in active["assertions"] if a["label"].startswith("c2pa.actions")]
    created = actions[0]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert created["softwareAgent"]["name"] == provider and created["when"]
    assert active["claim_generator_info"][0]["name"] == "Dreamina"
    assert active["signature_info"]["common_name"] == "Dreamina development signer - not trusted"
    return store


def assert_nothing_personal(data: bytes, content_type: str, *secrets: str) -> None:
    """None of ``secrets`` (a prompt, ids, an email) is in the manifest JSON or anywhere in the file's bytes."""
    text = json.dumps(manifest_store(data, content_type))
    for secret in secrets:
        assert secret not in text, secret
        assert secret.encode() not in data, secret
