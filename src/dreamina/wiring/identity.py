"""Wiring unit of the identity module: sign-up with the age gate, sign-in and sessions, the subject's profile, and
staff roles."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from dreamina.adapters.memory import identity as memory_identity
from dreamina.adapters.memory import tokens as memory_tokens
from dreamina.adapters.sql import repositories_identity, repositories_tokens
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.data_map import IDENTITY_DATA
from dreamina.domain.identity.password_changes import PasswordChanges
from dreamina.domain.identity.password_policy import PasswordPolicy
from dreamina.domain.identity.personal_data import IdentityPersonalData
from dreamina.domain.identity.profiles import Profiles
from dreamina.domain.identity.reauthentication import Reauthentication
from dreamina.domain.identity.registrations import Registrations
from dreamina.domain.identity.retention import AuditEventsPastLegalPeriod, ExpiredAccountTokens, ExpiredSessions
from dreamina.domain.identity.sessions import SessionRules, Sessions
from dreamina.domain.identity.staff import StaffDirectory
from dreamina.domain.identity.tokens import OneTimeTokens
from dreamina.ports.child_reports import GenerationStopper
from dreamina.ports.security import CommonPasswords
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, ModuleParts

PARTS = ModuleParts(
    name="identity",
    data=IDENTITY_DATA,
    sql={**repositories_identity.REPOSITORIES, **repositories_tokens.REPOSITORIES},
    memory=(memory_identity.STORES, memory_tokens.STORES),
)

NO_SESSION = uuid.UUID(int=0)  # a correction that arrives through a privacy request, not a particular session


@dataclass(frozen=True, slots=True)
class IdentityModule:
    """The identity module's use cases, and the profile corrections it answers for the data-rights module."""

    registrations: Registrations
    sessions: Sessions
    profiles: Profiles
    staff: StaffDirectory
    corrections: IdentityProfileCorrections
    contributes: Contributions
    reauthentication: Reauthentication  # current_password checks, throttled (email change, password change)
    password_changes: PasswordChanges  # change with the current password, reset by a mailed link


class IdentityProfileCorrections:
    """The data-rights module's ``ProfileCorrections`` port, by :meth:`Profiles.update_profile` (same validation,
    same audit)."""

    def __init__(self, profiles: Profiles) -> None:
        self._profiles = profiles

    async def correct(self, subject_id: UUID, changes: Mapping[str, str | None]) -> tuple[str, ...]:
        before = await self._profiles.profile(subject_id)
        after = await self._profiles.update_profile(Principal(subject_id, NO_SESSION), dict(changes))
        return tuple(name for name in changes if getattr(before, name) != getattr(after, name))


def wire_identity(infra: Infrastructure, generations: GenerationStopper) -> IdentityModule:
    settings = infra.settings
    reauthentication = Reauthentication(infra.secret_checks, infra.passwords)
    policy = PasswordPolicy(_common_passwords())
    tokens = OneTimeTokens(vault=infra.vault, keyrings=infra.keyrings, clock=infra.clock)
    profiles = Profiles(
        uow=infra.uow,
        vault=infra.vault,
        keyrings=infra.keyrings,
        clock=infra.clock,
        jurisdictions=infra.jurisdictions,
        generations=generations,
    )
    return IdentityModule(
        registrations=Registrations(
            uow=infra.uow,
            vault=infra.vault,
            keyrings=infra.keyrings,
            passwords=infra.passwords,
            mail=infra.mail,
            clock=infra.clock,
            jurisdictions=infra.jurisdictions,
            policy=policy,
        ),
        sessions=Sessions(
            uow=infra.uow,
            vault=infra.vault,
            keyrings=infra.keyrings,
            passwords=infra.passwords,
            clock=infra.clock,
            checks=infra.secret_checks,
            tokens=tokens,
            mail=infra.mail,
            device_class_of=_device_class_of,
            rules=SessionRules(token_ttl=timedelta(seconds=settings.token_ttl_seconds)),
        ),
        profiles=profiles,
        staff=StaffDirectory(infra.uow, infra.vault, infra.clock),
        corrections=IdentityProfileCorrections(profiles),
        contributes=Contributions(
            holders=(
                IdentityPersonalData(uow=infra.uow, vault=infra.vault, keyrings=infra.keyrings, clock=infra.clock),
            ),
            retention=(
                ExpiredSessions(infra.uow),
                ExpiredAccountTokens(infra.uow),
                AuditEventsPastLegalPeriod(infra.uow),
            ),
        ),
        reauthentication=reauthentication,
        password_changes=PasswordChanges(
            uow=infra.uow,
            vault=infra.vault,
            keyrings=infra.keyrings,
            passwords=infra.passwords,
            policy=policy,
            reauthentication=reauthentication,
            checks=infra.secret_checks,
            tokens=tokens,
            mail=infra.mail,
            clock=infra.clock,
        ),
    )


def _common_passwords() -> CommonPasswords:
    from dreamina.adapters.passwords import ZxcvbnCommonPasswords

    return ZxcvbnCommonPasswords()


def _device_class_of(user_agent: str) -> str:
    """desktop, mobile, tablet, bot or other: all a session keeps of its client (never the user agent)."""
    from dreamina.adapters.client_traits import OfflineClientClassifier

    return OfflineClientClassifier().classify(None, user_agent).device_class
