"""Changing the account's address without handing the account to whoever holds a bearer token.

1. The subject asks, proving their password again (:func:`~dreamina.domain.identity.proofs.reauthenticate`).
2. The new address is mailed a one-time confirmation link; the pending address lives only sealed in that token's
   payload. The old address is told at once, with an undo link valid for :attr:`EmailChangeRules.undo_ttl`.
3. Until the link comes back nothing changes: sign-in, export codes and every notice stay with the old address.
   On confirmation the address changes (verified), and every other session is signed out.
4. Undo (from the old address) restores it, cancels a pending change and signs out every session.

An address that belongs to another account answers exactly like a free one (same status, same body, same mails to
the requester); instead of a confirmation link (which could never work), its owner is told by mail.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from dreamina.domain.identity.accounts import Principal, email_index_of
from dreamina.domain.identity.email_verification import AccountLinks
from dreamina.domain.identity.proofs import InvalidToken, reauthenticate
from dreamina.domain.identity.tokens import OneTimeTokens
from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.secrets import SecretChecks
from dreamina.domain.privacy.validation import normalise_email
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import MailMessage
from dreamina.ports.security import PasswordHasher
from dreamina.ports.tokens import TokenPurpose
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class EmailChangeRules:
    confirm_ttl: timedelta = timedelta(hours=24)
    undo_ttl: timedelta = timedelta(days=7)


class EmailChanges:
    """Asking for, confirming and undoing a change of address. Each method is one unit of work."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        keyrings: Keyrings,
        tokens: OneTimeTokens,
        mail: MailDelivery,
        checks: SecretChecks,
        passwords: PasswordHasher,
        clock: Clock,
        links: AccountLinks,
        rules: EmailChangeRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._keyrings = keyrings
        self._tokens = tokens
        self._mail = mail
        self._checks = checks
        self._passwords = passwords
        self._clock = clock
        self._links = links
        self.rules = rules or EmailChangeRules()

    async def request(self, principal: Principal, new_email: str, current_password: str | None) -> None:
        """Ask to move the account to ``new_email``. Nothing about the account changes yet; the answer is the same
        whether the address is free, taken, or the account's own."""
        email = normalise_email(new_email)
        async with self._uow() as uow:
            account = await uow.accounts.get(principal.account_id)
        if account is None:
            raise NotFound("account not found")
        await reauthenticate(self._checks, self._passwords, account, current_password)
        now = self._clock.now()
        async with self._uow() as uow:
            account = await uow.accounts.get(principal.account_id)
            if account is None:
                raise NotFound("account not found")
            current = await self._keyrings(uow.subject_keys).open(account.id, "email", account.email_ciphertext)
            # A newer request replaces a pending one, whatever its address.
            await uow.account_tokens.delete_for_account(account.id, TokenPurpose.CHANGE_EMAIL)
            if email != current:
                owner = await uow.accounts.get_by_email_index(email_index_of(self._vault, email))
                if owner is None:
                    await self._ask_to_confirm(uow, account, email, principal.session_id)
                else:
                    await self._tell_owner(uow, owner, email)
                await self._tell_old_address(uow, account, current)
                await self._audit(uow, account, "email_change_requested", "asked by the subject", now)
            await uow.commit()
        await self._mail.flush()

    async def confirm(self, token: str) -> None:
        """The new address answered: it becomes the account's (verified), and every session but the one that asked
        is signed out. An unknown, used or expired link, or an address taken meanwhile, is :class:`InvalidToken`."""
        now = self._clock.now()
        async with self._uow() as uow:
            found = await self._tokens.redeem_link(uow, TokenPurpose.CHANGE_EMAIL, token)
            account = await uow.accounts.get(found.account_id) if found is not None else None
            payload = await self._tokens.payload(uow, found) if found is not None else None
            if found is None or account is None or payload is None:
                raise InvalidToken("this confirmation link is invalid, used or expired")
            pending = json.loads(payload)
            email, asking_session = str(pending["email"]), UUID(pending["session"])
            index = email_index_of(self._vault, email)
            if await uow.accounts.get_by_email_index(index) is not None:
                raise InvalidToken("this confirmation link is invalid, used or expired")
            sealed = await self._keyrings(uow.subject_keys).seal(account.id, "email", email)
            account.correct_email(index, sealed, now, verified=True)
            try:
                await uow.accounts.update(account)
            except Conflict as exc:  # taken by a concurrent sign-up a moment ago
                raise InvalidToken("this confirmation link is invalid, used or expired") from exc
            await uow.account_tokens.delete_for_account(account.id, TokenPurpose.VERIFY_EMAIL)
            await uow.sessions.delete_for_account(account.id, keep=asking_session)
            await self._audit(uow, account, "rectification", "address change confirmed from the new address", now)
            await uow.commit()

    async def undo(self, token: str) -> None:
        """The old address said it was not them: it is the account's again (verified, since it just answered), a
        pending change is cancelled, and every session is signed out."""
        now = self._clock.now()
        async with self._uow() as uow:
            found = await self._tokens.redeem_link(uow, TokenPurpose.UNDO_EMAIL_CHANGE, token)
            account = await uow.accounts.get(found.account_id) if found is not None else None
            old = await self._tokens.payload(uow, found) if found is not None else None
            if found is None or account is None or old is None:
                raise InvalidToken("this link is invalid, used or expired")
            keyring = self._keyrings(uow.subject_keys)
            current = await keyring.open(account.id, "email", account.email_ciphertext)
            index = email_index_of(self._vault, old)
            if old != current and await uow.accounts.get_by_email_index(index) is None:
                account.correct_email(index, await keyring.seal(account.id, "email", old), now, verified=True)
                await self._audit(uow, account, "rectification", "address change undone from the old address", now)
            elif old == current and not account.email_verified:
                account.verify_email(now)
            await uow.accounts.update(account)
            await uow.account_tokens.delete_for_account(account.id, TokenPurpose.CHANGE_EMAIL)
            await uow.account_tokens.delete_for_account(account.id, TokenPurpose.VERIFY_EMAIL)
            await uow.sessions.delete_for_account(account.id)
            await self._mail.queue(
                uow,
                MailMessage(
                    to=old,
                    subject="Your Dreamina address change was undone",
                    body=(
                        "The change of your account's email address was undone, and every session was signed out. "
                        "Sign in again with this address. If somebody else knew your password, change it now.\n"
                    ),
                    kind="email_change_undone",
                ),
                subject_id=account.id,
            )
            await uow.commit()
        await self._mail.flush()

    async def _ask_to_confirm(self, uow: UnitOfWork, account: Account, email: str, session_id: UUID) -> None:
        payload = json.dumps({"email": email, "session": str(session_id)})
        token = await self._tokens.issue_link(
            uow, account.id, TokenPurpose.CHANGE_EMAIL, self.rules.confirm_ttl, payload
        )
        await self._mail.queue(
            uow,
            MailMessage(
                to=email,
                subject="Confirm your new email address for Dreamina",
                body=(
                    "Somebody asked to use this address for their Dreamina account. If it was you, confirm it by "
                    f"opening this link within {_hours(self.rules.confirm_ttl)} hours:\n\n"
                    f"{self._links.link('confirm-email', token)}\n\n"
                    "If it was not you, ignore this message: nothing changes.\n"
                ),
                kind="email_change_confirm",
            ),
            subject_id=account.id,
        )

    async def _tell_owner(self, uow: UnitOfWork, owner: Account, email: str) -> None:
        await self._mail.queue(
            uow,
            MailMessage(
                to=email,
                subject="Somebody tried to use your email address on Dreamina",
                body=(
                    "Somebody asked to move another Dreamina account to this address, which already has an account "
                    "(yours). Nothing was changed and your account is not affected. You do not need to do anything.\n"
                ),
                kind="email_address_in_use",
            ),
            subject_id=owner.id,
        )

    async def _tell_old_address(self, uow: UnitOfWork, account: Account, current: str) -> None:
        undo = await self._tokens.issue_link(
            uow, account.id, TokenPurpose.UNDO_EMAIL_CHANGE, self.rules.undo_ttl, current, replace=False
        )
        await self._mail.queue(
            uow,
            MailMessage(
                to=current,
                subject="Your Dreamina email address is being changed",
                body=(
                    "Somebody signed in to your Dreamina account asked to change its email address. The change "
                    "happens only once the new address confirms it; until then everything stays with this address.\n\n"
                    "If it was not you, open this link (valid for "
                    f"{self.rules.undo_ttl.days} days) to keep or restore this address and sign out every session:"
                    f"\n\n{self._links.link('undo-email-change', undo)}\n\nThen change your password.\n"
                ),
                kind="email_change_requested",
            ),
            subject_id=account.id,
        )

    async def _audit(self, uow: UnitOfWork, account: Account, action: str, reason: str, now: datetime) -> None:
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=account.id,
                actor_kind=ActorKind.SUBJECT,
                actor_id=account.id,
                action=action,
                fields=("email",),
                reason=reason,
                occurred_at=now,
            )
        )


def _hours(ttl: timedelta) -> int:
    return int(ttl.total_seconds() // 3600)
