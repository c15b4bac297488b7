"""Pseudonyms for legal holds kept after erasure: a keyed hash of the subject's id, never the id itself."""

from __future__ import annotations

from uuid import UUID

from dreamina.ports.keys import KeyVault


def erasure_pseudonym(vault: KeyVault, subject_id: UUID) -> UUID:
    """The same pseudonym every time for one subject (so a resumed erasure is idempotent); re-linking it to the
    subject needs the master key, which is what makes it a pseudonym rather than an identifier."""
    digest = vault.blind_index("erasure-pseudonym", str(subject_id))
    return UUID(hex=digest[:32], version=4)
