""":class:`~dreamina.ports.provenance.ContentCredentials` by ``c2pa-python`` (the Content Authenticity Initiative's
bindings of c2pa-rs), and the reading side behind ``dreamina provenance verify``.

The manifest: one ``c2pa.created`` action with the IPTC digital source type ``trainedAlgorithmicMedia``, the model
provider as its software agent and the time; the service and its version as the claim generator. No title, no
thumbnail (c2pa would embed a copy of the picture), nothing about who asked for it. Signing needs a seekable file,
so the output is spooled to a private temporary directory, signed file to file in a thread, and streamed out in
chunks; the directory goes when the stream ends. c2pa-rs signs PNG, JPEG and WebP streaming, but holds an MP4 in
memory while it rewrites it (measured: a 400 MiB MP4 grew the process by about 410 MiB): so one output is signed at a
time per process, and none larger than ``max_bytes``, which bounds what signing adds to a worker's memory.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import threading
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from pathlib import Path
from typing import IO, Any

import c2pa

from dreamina.adapters.provenance_signer import SignerMaterial
from dreamina.ports.clock import Clock
from dreamina.ports.provenance import TRAINED_ALGORITHMIC_MEDIA, CredentialsRefused, NoCredentials

CHUNK_BYTES = 1024 * 1024
MAX_OUTPUT_BYTES = 256 * 1024 * 1024  # a 10 s generated video is tens of MiB; an MP4 is held in memory while signed
_NO_NETWORK = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
_SIGNING_SETTINGS = {**_NO_NETWORK, "builder": {"thumbnail": {"enabled": False}}}


class C2paContentCredentials:
    """Signs with ``signer`` (loaded on first use: the development signer is created only once something is
    generated). ``service`` and ``version`` name this service in every manifest."""

    def __init__(
        self,
        signer: Callable[[], SignerMaterial],
        *,
        service: str,
        version: str,
        clock: Clock,
        max_bytes: int = MAX_OUTPUT_BYTES,
    ) -> None:
        self._load_signer = signer
        self._material: SignerMaterial | None = None
        self._service = service
        self._version = version
        self._clock = clock
        self._max_bytes = max_bytes
        self._one_at_a_time = threading.Lock()  # held in the signing thread (any event loop may call sign)

    async def sign(
        self, chunks: AsyncIterable[bytes], content_type: str, *, provider: str
    ) -> AsyncGenerator[bytes, None]:
        work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="dreamina-c2pa-"))  # 0700: outputs are personal
        try:
            source, signed = work / "source", work / "signed"
            await self._spool(chunks, source)
            manifest = self.manifest(provider)
            await asyncio.to_thread(self._sign_file, manifest, content_type, source, signed)
            handle = await asyncio.to_thread(signed.open, "rb")
            try:
                while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                    yield chunk
            finally:
                handle.close()
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    def manifest(self, provider: str) -> dict[str, Any]:
        """The manifest definition: what every output says about itself (and nothing else)."""
        created = {
            "action": "c2pa.created",
            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
            "softwareAgent": {"name": provider},
            "when": self._clock.now().isoformat(),
        }
        return {
            "claim_generator_info": [{"name": self._service, "version": self._version}],
            "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [created]}}],
        }

    async def _spool(self, chunks: AsyncIterable[bytes], path: Path) -> None:
        handle = await asyncio.to_thread(path.open, "wb")
        written = 0
        try:
            async for chunk in chunks:
                written += len(chunk)
                if written > self._max_bytes:
                    raise CredentialsRefused("the output is too large to sign")
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)

    def _signer(self) -> c2pa.Signer:
        if self._material is None:
            self._material = self._load_signer()
        material = self._material
        info = c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, material.certificate_chain_pem, material.private_key_pem, None
        )
        return c2pa.Signer.from_info(info)

    def _sign_file(self, manifest: dict[str, Any], content_type: str, source: Path, signed: Path) -> None:
        with self._one_at_a_time:
            self._sign_one(manifest, content_type, source, signed)

    def _sign_one(self, manifest: dict[str, Any], content_type: str, source: Path, signed: Path) -> None:
        signer = self._signer()
        context = c2pa.Context.from_dict(_SIGNING_SETTINGS)
        try:
            with source.open("rb") as src, signed.open("w+b") as dst, c2pa.Builder(manifest, context) as builder:
                if _carries_manifest(content_type, src):  # a vendor's own credentials: kept as the parent
                    src.seek(0)
                    builder.add_ingredient(
                        {"title": "model provider output", "relationship": "parentOf"}, content_type, src
                    )
                src.seek(0)
                builder.sign(signer, content_type, src, dst)
        except c2pa.C2paError as error:
            kind = type(error).__name__.lstrip("_")
            raise CredentialsRefused(f"c2pa could not sign the {content_type} output ({kind})") from None
        finally:
            signer.close()
            context.close()


def _carries_manifest(content_type: str, stream: IO[bytes]) -> bool:
    context = c2pa.Context.from_dict(_NO_NETWORK)
    try:
        with c2pa.Reader(content_type, stream, context=context):
            return True
    except c2pa.C2paError:
        return False  # no manifest (or none c2pa can read): the output is signed as it is
    finally:
        context.close()


def verify(path: Path, trust_anchors_pem: str | None) -> dict[str, Any]:
    """A summary of ``path``'s content credentials: who generated it, the action and digital source type, the
    validation state and status codes, and whether the signer chains to ``trust_anchors_pem``. Reads only the file:
    no remote manifest, no OCSP. Raises :class:`NoCredentials` when the file carries no manifest c2pa can read."""
    settings: dict[str, Any] = dict(_NO_NETWORK)
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    try:
        with c2pa.Context.from_dict(settings) as context, c2pa.Reader(str(path), context=context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError as error:
        raise NoCredentials(f"no content credentials could be read ({type(error).__name__.lstrip('_')})") from None
    active = store["manifests"][store["active_manifest"]]
    actions = [
        action
        for assertion in active.get("assertions", [])
        if str(assertion.get("label", "")).startswith("c2pa.actions")
        for action in assertion.get("data", {}).get("actions", [])
    ]
    created = next((a for a in actions if a.get("action") == "c2pa.created"), actions[0] if actions else {})
    generators = active.get("claim_generator_info") or [{}]
    state = store.get("validation_state")
    return {
        "generator": {"name": generators[0].get("name"), "version": generators[0].get("version")},
        "software_agent": (created.get("softwareAgent") or {}).get("name"),
        "action": created.get("action"),
        "digital_source_type": created.get("digitalSourceType"),
        "when": created.get("when"),
        "signer": active.get("signature_info", {}).get("common_name"),
        "issuer": active.get("signature_info", {}).get("issuer"),
        "validation_state": state,
        "validation_status": [entry.get("code") for entry in store.get("validation_status") or []],
        "trusted": state == "Trusted",
        "ingredients": [
            {"title": i.get("title"), "relationship": i.get("relationship"), "manifest": i.get("active_manifest")}
            for i in active.get("ingredients", [])
        ],
    }
