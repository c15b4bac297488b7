"""Staff roles: granted and revoked from the command line only, never through the public API."""

from __future__ import annotations

from uuid import UUID

from dreamina.domain.identity.accounts import email_index_of
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.validation import normalise_email
from dreamina.ports.clock import Clock
from dreamina.ports.keys import KeyVault
from dreamina.ports.staff import StaffMember, StaffRole
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class StaffDirectory:
    def __init__(self, uow: UnitOfWorkFactory, vault: KeyVault, clock: Clock) -> None:
        self._uow = uow
        self._vault = vault
        self._clock = clock

    async def _account_id(self, email: str) -> UUID:
        index = email_index_of(self._vault, normalise_email(email))
        async with self._uow() as uow:
            account = await uow.accounts.get_by_email_index(index)
        if account is None:
            raise NotFound("no account with that email; the staff member signs up first")
        return account.id

    async def grant(self, email: str, role: str) -> StaffMember:
        try:
            chosen = StaffRole(role)
        except ValueError:
            raise InvalidInput("role must be support, privacy_officer or admin", field="role") from None
        member = StaffMember(account_id=await self._account_id(email), role=chosen, granted_at=self._clock.now())
        async with self._uow() as uow:
            await uow.staff.put(member)
            await uow.commit()
        return member

    async def revoke(self, email: str) -> bool:
        account_id = await self._account_id(email)
        async with self._uow() as uow:
            removed = await uow.staff.remove(account_id)
            await uow.commit()
        return removed

    async def members(self) -> list[StaffMember]:
        async with self._uow() as uow:
            return await uow.staff.list()

    async def member(self, email: str) -> StaffMember | None:
        """The staff member signed up with ``email`` (``NotFound`` if no account has it; None if it has no role)."""
        account_id = await self._account_id(email)
        async with self._uow() as uow:
            return await uow.staff.get(account_id)

    async def role_of(self, account_id: UUID) -> StaffRole | None:
        async with self._uow() as uow:
            member = await uow.staff.get(account_id)
        return None if member is None else member.role
