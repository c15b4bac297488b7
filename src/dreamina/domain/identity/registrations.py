"""Sign-up: an account is created only for someone the age gate lets in, who accepts the policy in effect."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from dreamina.domain.identity.accounts import clean_display_name, email_index_of
from dreamina.domain.identity.age_gate import check_age
from dreamina.domain.identity.email_verification import AccountLinks, VerificationRules, queue_verification
from dreamina.domain.identity.password_policy import PasswordPolicy
from dreamina.domain.identity.tokens import OneTimeTokens
from dreamina.domain.privacy.errors import Conflict, NotFound, PolicyVersionNotCurrent
from dreamina.domain.privacy.jurisdictions import JurisdictionTable, normalise_location
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.policy import current_version, names_version
from dreamina.domain.privacy.validation import normalise_email
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account, AccountStatus
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import MailMessage
from dreamina.ports.policy import AcceptanceMethod, PolicyAcceptance
from dreamina.ports.security import PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class SignUp:
    email: str
    password: str
    birth_date: date
    country: str
    region: str | None
    accept_policy_version: int | str
    display_name: str | None = None


class Registrations:
    """Sign-up. One unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        keyrings: Keyrings,
        passwords: PasswordHasher,
        mail: MailDelivery,
        clock: Clock,
        jurisdictions: JurisdictionTable,
        tokens: OneTimeTokens,
        links: AccountLinks,
        verification: VerificationRules | None = None,
        policy: PasswordPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._tokens = tokens
        self._links = links
        self._verification = verification or VerificationRules()
        self._policy = policy or PasswordPolicy()
        self._vault = vault
        self._keyrings = keyrings
        self._passwords = passwords
        self._mail = mail
        self._clock = clock
        self._jurisdictions = jurisdictions

    async def sign_up(self, command: SignUp) -> UUID:
        """Create an account, or answer a taken email exactly as a new one (its owner is told by mail).

        The new account's address is unverified: it is mailed a one-time verification link, and nothing else but
        security notices until the link comes back.

        Everything is validated, including the age gate, before anything is stored: a refused attempt leaves
        no trace (G8).
        """
        email = normalise_email(command.email)
        password = self._policy.check(command.password)
        display_name = clean_display_name(command.display_name)
        country, region = normalise_location(command.country, command.region)
        now = self._clock.now()

        async with self._uow() as uow:
            policy = current_version(await uow.policies.list(), now)
        if policy is None:
            raise NotFound("no privacy policy is in effect")
        if not names_version(policy, command.accept_policy_version):
            raise PolicyVersionNotCurrent(
                f"accept_policy_version must name the current policy (version {policy.version}, "
                f"sha256 {policy.content_sha256})",
                current_version=policy.version,
                current_sha256=policy.content_sha256,
            )
        check_age(command.birth_date, now.date(), country, region, self._jurisdictions)

        password_hash = await asyncio.to_thread(self._passwords.hash, password)
        email_index = email_index_of(self._vault, email)
        account_id = uuid.uuid4()
        async with self._uow() as uow:
            if await uow.accounts.get_by_email_index(email_index) is None:
                keyring = self._keyrings(uow.subject_keys)
                await keyring.create(account_id)
                account = Account(
                    id=account_id,
                    email_index=email_index,
                    email_ciphertext=await keyring.seal(account_id, "email", email),
                    display_name_ciphertext=(
                        await keyring.seal(account_id, "display_name", display_name) if display_name else None
                    ),
                    birth_date_ciphertext=await keyring.seal(account_id, "birth_date", command.birth_date.isoformat()),
                    country=country,
                    region=region,
                    password_hash=password_hash,
                    status=AccountStatus.ACTIVE,
                    created_at=now,
                    updated_at=now,
                )
                try:
                    await uow.accounts.add(account)
                    await uow.acceptances.add(
                        PolicyAcceptance(
                            id=uuid.uuid4(),
                            subject_id=account_id,
                            policy_version=policy.version,
                            content_sha256=policy.content_sha256,
                            method=AcceptanceMethod.SIGN_UP,
                            accepted_at=now,
                        )
                    )
                    await queue_verification(
                        uow,
                        tokens=self._tokens,
                        mail=self._mail,
                        links=self._links,
                        account_id=account_id,
                        email=email,
                        ttl=self._verification.link_ttl,
                    )
                    await uow.commit()
                    created = True
                except Conflict:  # lost a race with a concurrent sign-up for the same email
                    await uow.rollback()
                    created = False
            else:
                created = False
        if not created:
            async with self._uow() as uow:
                await self._mail.queue(uow, _duplicate_sign_up(email))
                await uow.commit()
        await self._mail.flush()
        # A taken email gets a fresh id that names nothing, so the answer has the same shape either way.
        return account_id


def _duplicate_sign_up(email: str) -> MailMessage:
    return MailMessage(
        to=email,
        subject="Someone tried to sign up with your email",
        body=(
            "Somebody (perhaps you) tried to create a Dreamina account with this email address, which already has "
            "an account. No new account was created. If it was you, sign in instead; if it was not, you can ignore "
            "this message.\n"
        ),
        kind="duplicate_signup",
    )
