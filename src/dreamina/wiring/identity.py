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
from dreamina.domain.identity.email_changes import EmailChanges
from dreamina.domain.identity.email_verification import AccountLinks, EmailVerification
from dreamina.domain.identity.password_changes import PasswordChanges
from dreamina.domain.identity.password_policy import PasswordPolicy
from dreamina.domain.identity.personal_data import IdentityPersonalData
from dreamina.domain.identity.profiles import Profiles, check_changes
from dreamina.domain.identity.reauthentication import Reauthentication
from dreamina.domain.identity.registrations import Registrations
from dreamina.domain.identity.retention import AuditEventsPastLegalPeriod, ExpiredAccountTokens, ExpiredSessions
from dreamina.domain.identity.sessions import SessionRules, Sessions
from dreamina.domain.identity.staff import StaffDirectory
from dreamina.domain.identity.tokens import OneTimeTokens
from dreamina.domain.privacy.errors import InvalidInput
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
    verification: EmailVerification
    email_changes: EmailChanges
    reauthentication: Reauthentication  # current_password checks, throttled (email change, password change)
    password_changes: PasswordChanges  # change with the current password, reset by a mailed link


class IdentityProfileCorrections:
    """The data-rights module's ``ProfileCorrections`` port, by :meth:`Profiles.update_profile` (same validation,
    same audit). An email correction is no side door: it is the same confirmed change as ``PATCH /v1/me`` (the
    password again, a link to the new address), so it changes nothing at once and answers alike for a taken
    address."""

    def __init__(self, profiles: Profiles, email_changes: EmailChanges) -> None:
        self._profiles = profiles
        self._email_changes = email_changes

    async def correct(
        self, subject_id: UUID, changes: Mapping[str, str | None], *, password: str | None = None
    ) -> tuple[str, ...]:
        rest = {name: value for name, value in changes.items() if name != "email"}
        check_changes(rest)  # refused before the email change is asked for
        principal = Principal(subject_id, NO_SESSION)
        if "email" in changes:
            email = changes["email"]
            if email is None:
                raise InvalidInput("email cannot be removed", field="email")
            await self._email_changes.request(principal, email, password)
        if not rest:
            return ()
        before = await self._profiles.profile(subject_id)
        after = await self._profiles.update_profile(principal, rest)
        return tuple(name for name in rest if getattr(before, name) != getattr(after, name))


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
    links = AccountLinks(settings.resolved_public_base_url)
    email_changes = EmailChanges(
        uow=infra.uow,
        vault=infra.vault,
        keyrings=infra.keyrings,
        tokens=tokens,
        mail=infra.mail,
        checks=infra.secret_checks,
        passwords=infra.passwords,
        clock=infra.clock,
        links=links,
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
            tokens=tokens,
            links=links,
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
            live_sessions=infra.live_sessions,
        ),
        profiles=profiles,
        staff=StaffDirectory(infra.uow, infra.vault, infra.clock),
        corrections=IdentityProfileCorrections(profiles, email_changes),
        verification=EmailVerification(
            uow=infra.uow,
            tokens=tokens,
            mail=infra.mail,
            keyrings=infra.keyrings,
            vault=infra.vault,
            attempts=infra.attempts,
            clock=infra.clock,
            links=links,
        ),
        email_changes=email_changes,
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
