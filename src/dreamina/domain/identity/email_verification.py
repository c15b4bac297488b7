"""Verified addresses: sign-up mails a one-time link to the address given, and the account's address counts as
verified once that link comes back. Until then the outbox sends that address nothing but the verification and
security notices (:data:`~dreamina.domain.privacy.mail.UNVERIFIED_ADDRESS_KINDS`); the account can use the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.proofs import InvalidToken
from dreamina.domain.identity.tokens import OneTimeTokens
from dreamina.domain.privacy.errors import NotFound, TooManyAttempts
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.ports.clock import Clock
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import MailMessage
from dreamina.ports.security import AttemptCounter
from dreamina.ports.tokens import TokenPurpose
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

RESEND_INDEX = "verify-resend"


@dataclass(frozen=True, slots=True)
class VerificationRules:
    link_ttl: timedelta = timedelta(hours=24)
    resends_per_window: int = 5  # verification mails one account may ask for per window
    resend_window_seconds: int = 3600


@dataclass(frozen=True, slots=True)
class AccountLinks:
    """Where the web client takes a mailed token. The token rides in the fragment, which browsers never send to a
    server, so no access log ever holds it; the page posts it to the API."""

    base_url: str

    def link(self, page: str, token: str) -> str:
        return f"{self.base_url.rstrip('/')}/account/{page}#token={token}"


async def queue_verification(
    uow: UnitOfWork,
    *,
    tokens: OneTimeTokens,
    mail: MailDelivery,
    links: AccountLinks,
    account_id: UUID,
    email: str,
    ttl: timedelta,
) -> None:
    """Issue a verification link (replacing any older one) and queue its mail, in the caller's unit of work."""
    token = await tokens.issue_link(uow, account_id, TokenPurpose.VERIFY_EMAIL, ttl)
    hours = int(ttl.total_seconds() // 3600)
    await mail.queue(
        uow,
        MailMessage(
            to=email,
            subject="Confirm your email address for Dreamina",
            body=(
                "Your Dreamina account is ready. Please confirm that this address is yours by opening this link "
                f"within {hours} hours:\n\n{links.link('verify-email', token)}\n\n"
                "Until you do, we send this address nothing but security notices. If you did not sign up, ignore "
                "this message.\n"
            ),
            kind="verify_email",
        ),
        subject_id=account_id,
    )


class EmailVerification:
    """Redeeming a verification link, and asking for another. Each method is one unit of work."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        tokens: OneTimeTokens,
        mail: MailDelivery,
        keyrings: Keyrings,
        vault: KeyVault,
        attempts: AttemptCounter,
        clock: Clock,
        links: AccountLinks,
        rules: VerificationRules | None = None,
    ) -> None:
        self._uow = uow
        self._tokens = tokens
        self._mail = mail
        self._keyrings = keyrings
        self._vault = vault
        self._attempts = attempts
        self._clock = clock
        self._links = links
        self.rules = rules or VerificationRules()

    async def verify(self, token: str) -> None:
        """The account's address is verified; an unknown, used or expired token is :class:`InvalidToken`."""
        async with self._uow() as uow:
            found = await self._tokens.redeem_link(uow, TokenPurpose.VERIFY_EMAIL, token)
            account = await uow.accounts.get(found.account_id) if found is not None else None
            if found is None or account is None:
                raise InvalidToken("this verification link is invalid, used or expired; ask for a new one")
            if not account.email_verified:
                account.verify_email(self._clock.now())
                await uow.accounts.update(account)
            await uow.commit()

    async def resend(self, principal: Principal) -> None:
        """Mail a fresh verification link (the older one stops working); nothing is sent for a verified address.
        Limited per account: past :attr:`VerificationRules.resends_per_window` it is ``TooManyAttempts``."""
        key = "verify-resend:" + self._vault.blind_index(RESEND_INDEX, str(principal.account_id))
        if await self._attempts.hit(key, self.rules.resend_window_seconds) > self.rules.resends_per_window:
            raise TooManyAttempts(
                "too many verification mails; try again later",
                retry_after_seconds=max(1, await self._attempts.retry_after(key)),
            )
        async with self._uow() as uow:
            account = await uow.accounts.get(principal.account_id)
            if account is None:
                raise NotFound("account not found")
            if account.email_verified:
                return
            email = await self._keyrings(uow.subject_keys).open(account.id, "email", account.email_ciphertext)
            await queue_verification(
                uow,
                tokens=self._tokens,
                mail=self._mail,
                links=self._links,
                account_id=account.id,
                email=email,
                ttl=self.rules.link_ttl,
            )
            await uow.commit()
        await self._mail.flush(principal.account_id)
