"""What a subject proves before a change that could hand their account to someone else: their password again
(re-authentication, counted by the one secret throttle), or a one-time link mailed to an address."""

from __future__ import annotations

from dreamina.domain.identity.reauthentication import ReauthenticationRequired, reauthenticate
from dreamina.domain.privacy.errors import DomainError

__all__ = ["InvalidToken", "ReauthenticationRequired", "reauthenticate"]  # re-authentication is signin's one check


class InvalidToken(DomainError):
    """A one-time link that is unknown, already used or expired (the three are not told apart)."""

    code = "invalid_token"
    title = "The link is invalid or has expired"
