"""The C2PA signer's key and certificate chain: checked when configured (production), or a development CA and signer
created on first run in the data directory (embedded profile), plainly named as untrusted.

C2PA asks of a signing certificate: an end-entity (not a CA) certificate with the ``digitalSignature`` key usage and
an extended key usage from its list (``emailProtection`` here); the chain is PEM, the signer's certificate first.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dreamina.adapters.crypto import create_private_file

DEVELOPMENT_SIGNER_NAME = "Dreamina development signer - not trusted"
DEVELOPMENT_CA_NAME = "Dreamina development CA - not trusted"
DEVELOPMENT_SIGNER_FILE = "provenance-dev-signer.pem"  # in the data directory, 0600, like master.key
_VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class SignerMaterial:
    """An ES256 (P-256) private key and its certificate chain, both PEM, checked to belong together."""

    private_key_pem: bytes = field(repr=False)
    certificate_chain_pem: bytes
    subject: str  # the signer certificate's common name (what a verifier shows)

    @classmethod
    def from_pem(cls, private_key_pem: bytes, certificate_chain_pem: bytes) -> SignerMaterial:
        """``ValueError`` (naming what is wrong, never the key) unless the key is a P-256 key, the chain parses and
        its first certificate is a non-CA signing certificate for that key."""
        try:
            key = serialization.load_pem_private_key(private_key_pem, password=None)
        except (ValueError, TypeError):
            raise ValueError("the signing key is not an unencrypted PEM private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the signing key must be an EC P-256 key (C2PA ES256)")
        try:
            chain = x509.load_pem_x509_certificates(certificate_chain_pem)
        except ValueError:
            raise ValueError("the certificate chain is not PEM certificates") from None
        leaf = chain[0]
        if leaf.public_key() != key.public_key():
            raise ValueError("the chain's first certificate is not the signing key's certificate")
        try:
            if leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                raise ValueError("the signing certificate must not be a CA certificate")
        except x509.ExtensionNotFound:
            pass
        try:
            usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            raise ValueError("the signing certificate lacks the digitalSignature key usage") from None
        if not usage.digital_signature:
            raise ValueError("the signing certificate lacks the digitalSignature key usage")
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        subject = str(names[0].value) if names else leaf.subject.rfc4514_string()
        return cls(private_key_pem, certificate_chain_pem, subject)


def development_signer(data_dir: Path) -> SignerMaterial:
    """The embedded profile's signer: read from ``<data_dir>/provenance-dev-signer.pem``, created there on first
    use (an ES256 development CA and a leaf signed by it, in one 0600 file). Its certificates say they are not to
    be trusted, and no trust list holds its CA: verifiers report it as untrusted."""
    path = data_dir / DEVELOPMENT_SIGNER_FILE
    if not path.exists():
        create_private_file(path, _new_development_signer())
    pem = path.read_bytes()
    marker = b"-----BEGIN CERTIFICATE-----"
    at = pem.find(marker)
    if at < 0:
        raise ValueError(f"{path} holds no certificate; remove it to have a new development signer made")
    return SignerMaterial.from_pem(pem[:at], pem[at:])


def _new_development_signer() -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(DEVELOPMENT_CA_NAME)
    ca = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _certificate(_name(DEVELOPMENT_SIGNER_NAME), ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private + leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dreamina (development, not trusted)"),
        ]
    )


def _certificate(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )
