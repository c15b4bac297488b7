"""Content credentials (README: Provenance): the C2PA signer the settings name, or the embedded profile's development
signer, and the trust anchors ``dreamina provenance verify`` checks signers against."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from dreamina.ports.clock import Clock
from dreamina.ports.provenance import ContentCredentials
from dreamina.settings import PREFIX, Settings, SettingsError

SERVICE_NAME = "Dreamina"


def content_credentials(settings: Settings, clock: Clock) -> ContentCredentials:
    """The signer of every output. A configured key and chain are checked now, so a wrong one refuses start-up
    (naming the setting); the development signer is made in the data directory when first needed."""
    from dreamina.adapters.provenance_c2pa import C2paContentCredentials
    from dreamina.adapters.provenance_signer import SignerMaterial, development_signer

    if settings.provenance_signing_key or settings.provenance_certificate_chain:
        names = f"{PREFIX}PROVENANCE_SIGNING_KEY and {PREFIX}PROVENANCE_CERTIFICATE_CHAIN"
        if not (settings.provenance_signing_key and settings.provenance_certificate_chain):
            raise SettingsError(f"give both {names} (or neither, for the development signer)")
        try:
            material = SignerMaterial.from_pem(
                settings.provenance_signing_key.encode(), settings.provenance_certificate_chain.encode()
            )
        except ValueError as error:
            raise SettingsError(f"{names}: {error}") from None
        return C2paContentCredentials(lambda: material, service=SERVICE_NAME, version=service_version(), clock=clock)
    data_dir = settings.data_dir
    return C2paContentCredentials(
        lambda: development_signer(data_dir), service=SERVICE_NAME, version=service_version(), clock=clock
    )


def service_version() -> str:
    """This service's version, as its package declares it."""
    try:
        return metadata.version("dreamina")
    except metadata.PackageNotFoundError:
        return "unknown"


def verify_file(settings: Settings, path: Path) -> dict[str, Any]:
    """The summary ``dreamina provenance verify`` prints (``NoCredentials`` for a file without credentials)."""
    from dreamina.adapters.provenance_c2pa import verify

    anchors = None
    if settings.provenance_trust_anchors_file is not None:
        try:
            anchors = settings.provenance_trust_anchors_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError(
                f"{PREFIX}PROVENANCE_TRUST_ANCHORS_FILE: cannot read the PEM bundle ({type(error).__name__})"
            ) from None
    return verify(path, anchors)
