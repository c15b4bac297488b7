"""Errors of the data-rights module (each maps to a problem-details status in the HTTP adapter)."""

from __future__ import annotations

from dreamina.domain.privacy.errors import DomainError


class IdentityProofFailed(DomainError):
    """The password or one-time code given as proof of identity is wrong, expired or used up."""

    code = "identity_proof_failed"
    title = "Proof of identity failed"


class RequestNotOpen(DomainError):
    """The request is not in a state that allows this action."""

    code = "request_not_open"
    title = "The request does not allow this action in its current state"


class ExtensionNotAllowed(DomainError):
    code = "extension_not_allowed"
    title = "The deadline cannot be extended"


class ExportExpired(DomainError):
    code = "export_expired"
    title = "The export has expired"
