"""Staff roles: which accounts may use the admin endpoints, and as what."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class StaffRole(enum.StrEnum):
    SUPPORT = "support"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class StaffMember:
    account_id: UUID
    role: StaffRole
    granted_at: datetime


class StaffRepository(Protocol):
    async def put(self, member: StaffMember) -> None:
        """Grant ``member.role`` to the account, replacing any role it had."""
        ...

    async def get(self, account_id: UUID) -> StaffMember | None: ...

    async def remove(self, account_id: UUID) -> bool: ...

    async def list(self) -> list[StaffMember]:
        """Every staff member, oldest grant first."""
        ...
