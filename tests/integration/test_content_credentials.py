"""Content credentials (issue 17): every output is stored with a signed C2PA manifest saying it is AI-generated,
naming the service and the model provider and nothing personal; a vendor's own manifest is kept as the parent
ingredient; an output that cannot be signed is not stored. The real c2pa adapter throughout (no fake signs)."""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.images import PillowMediaRenderer
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.provenance_c2pa import C2paContentCredentials, verify
from dreamina.adapters.provenance_signer import DEVELOPMENT_SIGNER_FILE, SignerMaterial, development_signer
from dreamina.adapters.providers.offline import OfflineRendererProvider
from dreamina.domain.generation.outputs import store_outputs
from dreamina.ports.generation import (
    Generation,
    GenerationKind,
    GenerationStatus,
    ProviderBadResponse,
    ProviderJob,
    ProviderJobState,
    ProviderOutput,
    ProviderRequest,
)
from dreamina.ports.provenance import CredentialsRefused
from dreamina.settings import SettingsError, load_settings
from dreamina.wiring.provenance import content_credentials
from tests.contract.generation_records import make_generation
from tests.provenance import (
    assert_generated_by_ai,
    assert_nothing_personal,
    manifest_store,
    session_credentials,
    session_signer,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PROMPT = "a portrait of my neighbour Ada Lovelace at her door"


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 1000):
        yield data[start : start + 1000]


async def _sign(data: bytes, content_type: str, provider: str = "offline", credentials: object = None) -> bytes:
    signer = credentials or session_credentials()
    assert isinstance(signer, C2paContentCredentials)
    return b"".join([chunk async for chunk in signer.sign(_chunks(data), content_type, provider=provider)])


def _request(kind: GenerationKind) -> ProviderRequest:
    return ProviderRequest(
        idempotency_key="k",
        kind=kind,
        prompt=PROMPT,
        references=(),
        aspect_ratio="1:1",
        count=1,
        duration_seconds=1,
        seed=7,
    )


def _generation() -> Generation:
    return make_generation(uuid.uuid4(), at=NOW, status=GenerationStatus.RUNNING, provider_job_id="offline-1")


def _picture(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 40, 90)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", lambda: PillowMediaRenderer().image(_request(GenerationKind.IMAGE), 0)),
        ("video/mp4", lambda: PillowMediaRenderer().video(_request(GenerationKind.VIDEO))),
        ("image/jpeg", lambda: _picture("JPEG")),
        ("image/webp", lambda: _picture("WEBP")),
    ],
)
async def test_every_output_type_is_signed_with_an_intact_manifest(content_type: str, data: object) -> None:
    assert callable(data)
    original: bytes = data()
    signed = await _sign(original, content_type)
    store = assert_generated_by_ai(signed, content_type, provider="offline")
    active = store["manifests"][store["active_manifest"]]
    assert "thumbnail" not in active and "title" not in active  # no copy of the picture, no file name
    assert not active.get("ingredients")
    assert_nothing_personal(signed, content_type, PROMPT, "Ada")
    middle = len(original) // 2
    at = signed.index(original[middle : middle + 16])  # a piece of the media itself, not of the manifest
    tampered = bytearray(signed)
    tampered[at] ^= 0xFF
    codes = {e["code"] for e in manifest_store(bytes(tampered), content_type).get("validation_status") or []}
    assert codes - {"signingCredential.untrusted"}, "a changed byte must break the manifest's hash"


async def test_store_outputs_signs_what_it_stores_and_names_no_generation_or_subject() -> None:
    generation = _generation()
    provider = OfflineRendererProvider(PillowMediaRenderer())
    job = await provider.submit(_request(GenerationKind.IMAGE))
    store = InMemoryObjectStore()
    [output] = await store_outputs(store, provider, generation, job, session_credentials())
    stored = await store.get(output.object_key)
    assert output.bytes == len(stored) > len(job.outputs[0].inline or b"")
    assert_generated_by_ai(stored, "image/png", provider="offline")
    assert_nothing_personal(stored, "image/png", str(generation.id), str(generation.subject_id), PROMPT)
    assert Image.open(io.BytesIO(stored)).size == Image.open(io.BytesIO(job.outputs[0].inline or b"")).size

    broken = ProviderJob("x", ProviderJobState.SUCCEEDED, (ProviderOutput("image/png", inline=b"not a png"),))
    other = InMemoryObjectStore()
    with pytest.raises(ProviderBadResponse, match="content credentials"):
        await store_outputs(other, provider, generation, broken, session_credentials())
    assert other.objects == {} and other.uploads == {}  # nothing unsigned is kept


async def test_a_vendor_manifest_is_kept_as_the_parent_ingredient(tmp_path: Path) -> None:
    vendor = C2paContentCredentials(
        lambda: development_signer(tmp_path / "vendor"), service="VendorCo", version="9", clock=MovableClock(NOW)
    )
    presigned = await _sign(_picture("PNG"), "image/png", provider="vendor-model", credentials=vendor)
    assert manifest_store(presigned, "image/png")["manifests"]  # the input carries the vendor's own credentials

    signed = await _sign(presigned, "image/png", provider="openai")
    store = assert_generated_by_ai(signed, "image/png", provider="openai")
    active = store["manifests"][store["active_manifest"]]
    [ingredient] = active["ingredients"]
    assert ingredient["relationship"] == "parentOf" and "thumbnail" not in ingredient
    parent = store["manifests"][ingredient["active_manifest"]]
    assert parent["claim_generator_info"][0]["name"] == "VendorCo"
    assert verify_summary(signed, tmp_path)["ingredients"][0]["relationship"] == "parentOf"


def verify_summary(data: bytes, tmp_path: Path, anchors: str | None = None) -> dict[str, object]:
    path = tmp_path / "output.png"
    path.write_bytes(data)
    return verify(path, anchors)


async def test_the_development_signer_is_made_once_owner_only_and_labelled_untrusted(tmp_path: Path) -> None:
    first = development_signer(tmp_path)
    assert development_signer(tmp_path) == first  # read back, not made again
    assert stat.S_IMODE(os.stat(tmp_path / DEVELOPMENT_SIGNER_FILE).st_mode) == 0o600
    leaf, ca = x509.load_pem_x509_certificates(first.certificate_chain_pem)
    assert first.subject == "Dreamina development signer - not trusted"
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == first.subject
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)

    signed = await _sign(_picture("PNG"), "image/png")
    untrusted = verify_summary(signed, tmp_path)
    assert untrusted["trusted"] is False and untrusted["validation_status"] == ["signingCredential.untrusted"]
    anchor = x509.load_pem_x509_certificates(session_signer().certificate_chain_pem)[1]
    trusted = verify_summary(signed, tmp_path, anchor.public_bytes(serialization.Encoding.PEM).decode())
    assert trusted["trusted"] is True and trusted["validation_state"] == "Trusted"


def test_a_configured_signer_is_checked_at_start_up(tmp_path: Path) -> None:
    material = session_signer()
    key_file, chain_file = tmp_path / "signer.key", tmp_path / "chain.pem"
    key_file.write_bytes(material.private_key_pem)
    chain_file.write_bytes(material.certificate_chain_pem)
    settings = load_settings(
        {
            "DREAMINA_DATA_DIR": str(tmp_path / "data"),
            "DREAMINA_PROVENANCE_SIGNING_KEY_FILE": str(key_file),
            "DREAMINA_PROVENANCE_CERTIFICATE_CHAIN_FILE": str(chain_file),
        }
    )
    assert isinstance(content_credentials(settings, MovableClock(NOW)), C2paContentCredentials)
    assert not (tmp_path / "data" / DEVELOPMENT_SIGNER_FILE).exists()

    other_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file.write_bytes(other_key)
    mismatched = load_settings(
        {
            "DREAMINA_PROVENANCE_SIGNING_KEY_FILE": str(key_file),
            "DREAMINA_PROVENANCE_CERTIFICATE_CHAIN_FILE": str(chain_file),
        }
    )
    with pytest.raises(SettingsError, match="DREAMINA_PROVENANCE_SIGNING_KEY") as refused:
        content_credentials(mismatched, MovableClock(NOW))
    assert "BEGIN" not in str(refused.value)  # names the setting, never the key
    ca_only = load_settings({"DREAMINA_PROVENANCE_SIGNING_KEY": "x", "DREAMINA_PROVENANCE_CERTIFICATE_CHAIN": "y"})
    with pytest.raises(SettingsError, match="DREAMINA_PROVENANCE_CERTIFICATE_CHAIN"):
        content_credentials(ca_only, MovableClock(NOW))
    with pytest.raises(SettingsError, match="give both"):
        content_credentials(load_settings({"DREAMINA_PROVENANCE_SIGNING_KEY": "x"}), MovableClock(NOW))


def test_a_ca_certificate_is_not_a_signer() -> None:
    material = session_signer()
    leaf, ca = x509.load_pem_x509_certificates(material.certificate_chain_pem)
    with pytest.raises(ValueError, match="signing key's certificate"):
        SignerMaterial.from_pem(material.private_key_pem, ca.public_bytes(serialization.Encoding.PEM))
    assert json.dumps(leaf.subject.rfc4514_string())


async def test_a_file_too_large_or_not_of_its_type_is_refused() -> None:
    small = C2paContentCredentials(
        lambda: session_signer(), service="Dreamina", version="test", clock=MovableClock(NOW), max_bytes=100
    )
    with pytest.raises(CredentialsRefused, match="too large"):
        await _sign(_picture("PNG"), "image/png", credentials=small)
    with pytest.raises(CredentialsRefused):
        await _sign(_picture("PNG"), "video/mp4")


async def test_the_spooled_output_is_removed_when_the_store_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output waits in a private temporary directory while it is signed; a store that fails mid-stream (a killed
    upload) leaves nothing of it behind."""
    credentials = session_credentials()
    session_signer()  # made before the temporary directory moves under tmp_path
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    generation = _generation()
    provider = OfflineRendererProvider(PillowMediaRenderer())
    job = await provider.submit(_request(GenerationKind.VIDEO))

    class FailingStore(InMemoryObjectStore):
        async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> int:
            async for _ in chunks:
                assert [name[:14] for name in os.listdir(tmp_path)] == ["dreamina-c2pa-"]
                raise OSError("the store went away")
            return 0

    with pytest.raises(OSError, match="went away"):
        await store_outputs(FailingStore(), provider, generation, job, credentials)
    assert os.listdir(tmp_path) == []
