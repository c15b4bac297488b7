"""Errors of the data-rights module (each maps to a problem-details status in the HTTP adapter).

``RequestNotOpen`` is raised by the request records' own transitions, so it is defined beside them in the port.
"""

from __future__ import annotations

from dreamina.domain.privacy.errors import DomainError
from dreamina.ports.data_rights import RequestNotOpen

__all__ = ["ExportExpired", "ExtensionNotAllowed", "IdentityProofFailed", "RequestNotOpen"]


class IdentityProofFailed(DomainError):
    """The password or one-time code given as proof of identity is wrong, expired or used up."""

    code = "identity_proof_failed"
    title = "Proof of identity failed"


class ExtensionNotAllowed(DomainError):
    code = "extension_not_allowed"
    title = "The deadline cannot be extended"


class ExportExpired(DomainError):
    code = "export_expired"
    title = "The export has expired"
