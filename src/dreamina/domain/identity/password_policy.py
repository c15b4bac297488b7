"""The password rule, one for sign-up, password change and reset: a length, and not a common or breached password
(a maintained list shipped with a package). No composition rules: they make passwords harder to remember, not to
guess (NIST SP 800-63B, 5.1.1.2)."""

from __future__ import annotations

from dreamina.domain.identity.accounts import MAX_PASSWORD
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.ports.security import CommonPasswords

MIN_PASSWORD = 10


class PasswordPolicy:
    def __init__(self, common: CommonPasswords | None = None) -> None:
        self._common = common

    def check(self, password: object, *, field: str = "password") -> str:
        """``password`` if it may be chosen; :class:`InvalidInput` (422) naming ``field`` otherwise."""
        if not isinstance(password, str):
            raise InvalidInput("password must be a string", field=field)
        if "\x00" in password:
            raise InvalidInput("password contains a NUL character", field=field)
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters", field=field)
        if len(password) > MAX_PASSWORD:
            raise InvalidInput(f"password must be at most {MAX_PASSWORD} characters", field=field)
        if self._common is not None and self._common.is_common(password):
            raise InvalidInput("this password is too common (it is on a list of leaked passwords)", field=field)
        return password
