"""How an anonymous ticket is found by its reply-to address without the address being stored in the clear."""

from __future__ import annotations

from dreamina.domain.privacy.mail import ACCOUNT_EMAIL_INDEX
from dreamina.ports.keys import KeyVault


def address_index(vault: KeyVault, normalised_email: str) -> str:
    """The blind index of a normalised address (a keyed HMAC; the key derives from the master key).

    The very index accounts are found by (``ACCOUNT_EMAIL_INDEX``), so an account holder's verified address finds
    the anonymous tickets they wrote with it before signing up, with no second index of the same address.
    """
    return vault.blind_index(ACCOUNT_EMAIL_INDEX, normalised_email)
