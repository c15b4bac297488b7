"""The data-rights module's ``ProfileCorrections`` port, answered by the identity module's own use case."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from uuid import UUID

from dreamina.domain.identity.accounts import Accounts, Principal

NO_SESSION = uuid.UUID(int=0)  # the correction arrives through a privacy request, not a particular session


class IdentityProfileCorrections:
    """Applies structured corrections with :meth:`Accounts.update_profile` (same validation, same audit)."""

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    async def correct(self, subject_id: UUID, changes: Mapping[str, str | None]) -> tuple[str, ...]:
        before = await self._accounts.profile(subject_id)
        after = await self._accounts.update_profile(Principal(subject_id, NO_SESSION), dict(changes))
        return tuple(name for name in changes if getattr(before, name) != getattr(after, name))
