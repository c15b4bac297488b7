"""Access and erasure of anonymous tickets by a person without an account (policy section 7, finding 13 of
issue 16): they prove control of the reply-to address with a link mailed to it.

1. :meth:`AddressRequests.submit` (``access`` or ``erasure``, an address): always the same answer after the same
   work, whether or not any ticket came from that address (nothing is looked up): a pending request holding only
   the address's blind index and a keyed hash of a 256-bit token, and a mail to the address with the link. At most
   one mail per address and kind per window (the rest are dropped silently, with the same answer).
2. :meth:`AddressRequests.confirm` (the token from the mail, single use, 24 hours): access answers the tickets
   written from that address with their text and our answers; erasure deletes them (each ticket's own data key is
   in its row, so its sealed text goes with it), deletes the pending requests of the address, and records an
   :class:`~dreamina.ports.data_rights.ErasureCompletion` naming nobody, as the data-rights saga does.

Tickets have no legal hold: like a signed-in subject's, they are deleted, not pseudonymised.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.secrets import SecretChecks
from dreamina.domain.privacy.validation import normalise_email
from dreamina.domain.support.addresses import address_index
from dreamina.domain.support.tickets import TicketSeal, TicketView
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import ErasureCompletion
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import MailMessage
from dreamina.ports.support import AddressRequest, AddressRequestKind
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

TOKEN_INDEX = "ticket-address-request"  # noqa: S105 - the name of a blind index, not a secret
MAIL_KIND = "ticket_address_request"
MAIL_THROTTLE = "ticket_address_mail"  # one mail per address and kind per window (SecretChecks.first)
MAX_TOKEN = 128


@dataclass(frozen=True, slots=True)
class AddressRequestRules:
    link_ttl: timedelta = timedelta(hours=24)
    mail_window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class AddressOutcome:
    """What a confirmed request did: the tickets shown (access) or how many were deleted (erasure)."""

    kind: AddressRequestKind
    tickets: list[TicketView]
    erased: int = 0
    completion_id: uuid.UUID | None = None


class AddressRequests:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        keyrings: Keyrings,
        mail: MailDelivery,
        checks: SecretChecks,
        clock: Clock,
        link_base: str,
        rules: AddressRequestRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._keyrings = keyrings
        self._mail = mail
        self._checks = checks
        self._clock = clock
        self._link_base = link_base.rstrip("/")
        self.rules = rules or AddressRequestRules()

    async def submit(self, kind: str, email: str) -> None:
        """Mail a confirmation link to ``email``; the same work and answer whatever that address wrote."""
        if kind not in set(AddressRequestKind):
            raise InvalidInput(f"type must be one of {', '.join(AddressRequestKind)}", field="type")
        request_kind = AddressRequestKind(kind)
        address = normalise_email(email)
        index = address_index(self._vault, address)
        window = int(self.rules.mail_window.total_seconds())
        if not await self._checks.first(MAIL_THROTTLE, f"{request_kind}|{index}", window):
            return  # a link for this address and kind is already on its way: the same answer, no second mail
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.ticket_address_requests.add(
                AddressRequest(
                    id=uuid.uuid4(),
                    kind=request_kind,
                    address_index=index,
                    token_hash=self._hash(token),
                    created_at=now,
                    expires_at=now + self.rules.link_ttl,
                )
            )
            link = f"{self._link_base}/privacy/tickets#token={token}"  # a fragment: no server log sees it
            await self._mail.queue(uow, _mail(request_kind, address, link))
            await uow.commit()
        await self._mail.flush()

    async def confirm(self, token: str) -> AddressOutcome:
        """Carry out the request the mailed ``token`` proves (once); an unknown, used or expired one is not found."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            raise NotFound("this link is unknown, used or expired")
        now = self._clock.now()
        async with self._uow() as uow:
            request = await uow.ticket_address_requests.redeem(self._hash(token), now)
            if request is None:
                raise NotFound("this link is unknown, used or expired")
            if request.kind is AddressRequestKind.ACCESS:
                tickets = await uow.support_tickets.list_anonymous_for_address(request.address_index)
                seal = TicketSeal(uow, self._keyrings)
                views = [await seal.view(t) for t in tickets]
                for ticket in tickets:
                    await _audit(uow, ticket.id, "support_ticket.shown_to_address", now)
                await uow.commit()
                return AddressOutcome(request.kind, views)
            erased = await uow.support_tickets.delete_anonymous_for_address(request.address_index)
            await uow.ticket_address_requests.delete_for_address(request.address_index)
            completion = ErasureCompletion(
                id=uuid.uuid4(),
                completed_at=now,
                outcome={"holders": ["support"], "scope": "anonymous_support_tickets", "support_tickets": erased},
            )
            await uow.erasure_completions.add(completion)
            await _audit(uow, completion.id, "support_ticket.erased_by_address", now)
            await uow.commit()
        return AddressOutcome(request.kind, [], erased=erased, completion_id=completion.id)

    def _hash(self, token: str) -> str:
        return self._vault.blind_index(TOKEN_INDEX, token)


class AnonymousTicketIndex:
    """Gives anonymous tickets stored before the index existed their ``reply_to_index`` (run at start-up: the
    migration cannot, it holds no key). Idempotent and batched; each batch is its own unit of work."""

    def __init__(self, *, uow: UnitOfWorkFactory, vault: KeyVault, keyrings: Keyrings, batch: int = 500) -> None:
        self._uow = uow
        self._vault = vault
        self._keyrings = keyrings
        self._batch = batch

    async def backfill(self) -> int:
        done = 0
        while True:
            async with self._uow() as uow:
                found = await uow.support_tickets.list_unindexed(self._batch)
                seal = TicketSeal(uow, self._keyrings)
                for ticket in found:
                    assert ticket.reply_to_ciphertext is not None
                    reply_to = await seal.open(ticket, "reply_to", ticket.reply_to_ciphertext)
                    await uow.support_tickets.set_reply_to_index(ticket.id, address_index(self._vault, reply_to))
                await uow.commit()
            done += len(found)
            if len(found) < self._batch:
                return done


def _mail(kind: AddressRequestKind, address: str, link: str) -> MailMessage:
    what = "see the messages" if kind is AddressRequestKind.ACCESS else "delete the messages"
    return MailMessage(
        to=address,
        subject="Confirm your request about your messages to Dreamina",
        body=(
            f"Someone asked to {what} sent to Dreamina support from this address without an account.\n"
            f"If it was you, open this link within 24 hours (it works once):\n\n{link}\n\n"
            "If it was not you, ignore this mail: nothing happens without the link.\n"
        ),
        kind=MAIL_KIND,
    )


async def _audit(uow: UnitOfWork, record_id: uuid.UUID, action: str, now: datetime) -> None:
    """Keyed by a random id (the ticket's, or the erasure's completion record): no address, nobody named."""
    await uow.audit.append(
        AuditEvent(
            id=uuid.uuid4(),
            subject_id=record_id,
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            action=action,
            fields=("support_tickets",),
            reason=None,
            occurred_at=now,
        )
    )
