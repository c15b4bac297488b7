"""Support tickets (policy section 11): anyone may write to us; privacy questions are answered on the legal clock.

Two staff queues work the tickets: the *privacy* queue (privacy officers; category ``privacy``, each ticket due by
the legal clock of the sender's jurisdiction and flagged near-due/overdue like a privacy request) and the
*support* queue (support staff; ``billing`` and ``other``). A ticket outside a queue is not found in it. Every
staff list, view, answer and closing is an audit event; answers are mailed to the ticket's reply-to address.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.jurisdictions import (
    NEAR_DUE,
    DeadlineFlag,
    JurisdictionRule,
    JurisdictionTable,
    deadline_flag,
    due_date,
)
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.validation import clean_text, normalise_email
from dreamina.domain.support.addresses import address_index
from dreamina.domain.support.errors import TicketClosed
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import MailMessage
from dreamina.ports.support import SupportTicket, TicketCategory, TicketStatus
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

QUEUES: dict[str, tuple[TicketCategory, ...]] = {
    "privacy": (TicketCategory.PRIVACY,),
    "support": (TicketCategory.BILLING, TicketCategory.OTHER),
}
OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.ANSWERED)
MAX_SUBJECT_LINE = 200
MAX_MESSAGE = 5000
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class TicketRules:
    """Tunables: the jurisdiction whose clock an anonymous privacy question runs on, list and thread bounds."""

    anonymous_jurisdiction: str = "EU"  # we cannot know where an anonymous sender lives: the GDPR default applies
    queue_limit: int = 200
    max_replies: int = 50


@dataclass(frozen=True, slots=True)
class NewTicket:
    category: str
    subject_line: str
    message: str
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketSummary:
    ticket: SupportTicket
    subject_line: str


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket with its free text opened."""

    ticket: SupportTicket
    subject_line: str
    message: str
    reply_to: str | None
    replies: list[Reply] = field(default_factory=list)


class TicketSeal:
    """Seals and opens a ticket's fields: with the subject's data key, or the anonymous ticket's own key.

    Each value is bound to its ticket and field, so a sealed value copied to another ticket does not open.
    Lives for one unit of work (the keyring caches unwrapped keys only that long).
    """

    def __init__(self, uow: UnitOfWork, keyrings: Keyrings) -> None:
        self._keyring = keyrings(uow.subject_keys)
        self._vault = keyrings.vault
        self._cipher = keyrings.cipher  # an anonymous ticket's own key seals with the same cipher

    @staticmethod
    def _field(ticket_id: UUID, name: str) -> str:
        return f"support_ticket/{ticket_id}/{name}"

    async def seal(self, ticket: SupportTicket, name: str, value: str) -> bytes:
        if ticket.subject_id is not None:
            return await self._keyring.seal(ticket.subject_id, self._field(ticket.id, name), value)
        assert ticket.wrapped_key is not None
        key = self._vault.unwrap(ticket.wrapped_key)
        return self._cipher.seal(key, value.encode("utf-8"), self._field(ticket.id, name))

    async def open(self, ticket: SupportTicket, name: str, sealed: bytes) -> str:
        if ticket.subject_id is not None:
            return await self._keyring.open(ticket.subject_id, self._field(ticket.id, name), sealed)
        assert ticket.wrapped_key is not None
        key = self._vault.unwrap(ticket.wrapped_key)
        return self._cipher.open(key, sealed, self._field(ticket.id, name)).decode("utf-8")

    async def view(self, ticket: SupportTicket) -> TicketView:
        replies: list[Reply] = []
        if ticket.replies_ciphertext is not None:
            raw: list[dict[str, Any]] = json.loads(await self.open(ticket, "replies", ticket.replies_ciphertext))
            replies = [Reply(text=r["text"], at=datetime.fromisoformat(r["at"])) for r in raw]
        return TicketView(
            ticket=ticket,
            subject_line=await self.open(ticket, "subject_line", ticket.subject_line_ciphertext),
            message=await self.open(ticket, "message", ticket.message_ciphertext),
            reply_to=None
            if ticket.reply_to_ciphertext is None
            else await self.open(ticket, "reply_to", ticket.reply_to_ciphertext),
            replies=replies,
        )


class SupportTickets:
    """The support module's use cases. Each method is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        keyrings: Keyrings,
        mail: MailDelivery,
        clock: Clock,
        jurisdictions: JurisdictionTable,
        rules: TicketRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._keyrings = keyrings
        self._mail = mail
        self._clock = clock
        self._jurisdictions = jurisdictions
        self.rules = rules or TicketRules()

    def _seal(self, uow: UnitOfWork) -> TicketSeal:
        return TicketSeal(uow, self._keyrings)

    # -- the sender's side --------------------------------------------------------------------------------------

    async def submit(self, subject_id: UUID | None, new: NewTicket) -> SupportTicket:
        """Receive a ticket from a signed-in subject or from anyone (who must then give a reply-to address).
        A privacy ticket is due by the legal clock of the subject's jurisdiction (anonymous: the GDPR default)."""
        if new.category not in set(TicketCategory):
            raise InvalidInput(f"category must be one of {', '.join(TicketCategory)}", field="category")
        subject_line = clean_text(new.subject_line, field="subject", min_length=3, max_length=MAX_SUBJECT_LINE)
        message = clean_text(new.message, field="message", min_length=10, max_length=MAX_MESSAGE, multiline=True)
        reply_to = None if new.reply_to is None else normalise_email(new.reply_to, field="reply_to")
        if subject_id is None and reply_to is None:
            raise InvalidInput("without signing in, give a reply_to address we can answer", field="reply_to")
        now = self._clock.now()
        async with self._uow() as uow:
            rule = self._jurisdictions.rules.get(self.rules.anonymous_jurisdiction) or self._jurisdictions.fallback
            if subject_id is not None:
                account = await uow.accounts.get(subject_id)
                if account is None:
                    raise NotFound("account not found")
                rule = self._jurisdictions.resolve(account.country, account.region)
            ticket = SupportTicket(
                id=uuid.uuid4(),
                subject_id=subject_id,
                category=TicketCategory(new.category),
                status=TicketStatus.OPEN,
                received_at=now,
                updated_at=now,
                subject_line_ciphertext=b"",
                message_ciphertext=b"",
            )
            if subject_id is None:
                _plain, ticket.wrapped_key = self._vault.generate_data_key()
            if ticket.category is TicketCategory.PRIVACY:
                ticket.jurisdiction, ticket.due_at = rule.code, _due(rule, now)
            seal = self._seal(uow)
            ticket.subject_line_ciphertext = await seal.seal(ticket, "subject_line", subject_line)
            ticket.message_ciphertext = await seal.seal(ticket, "message", message)
            if reply_to is not None:
                ticket.reply_to_ciphertext = await seal.seal(ticket, "reply_to", reply_to)
                if subject_id is None:  # a verified request by this address finds it (finding 13)
                    ticket.reply_to_index = address_index(self._vault, reply_to)
            await uow.support_tickets.add(ticket)
            await self._audit(uow, ticket, "support_ticket.received", ActorKind.SUBJECT, subject_id, None, now)
            await uow.commit()
        return ticket

    async def list_for_subject(self, subject_id: UUID) -> list[TicketSummary]:
        async with self._uow() as uow:
            seal = self._seal(uow)
            return [
                TicketSummary(t, await seal.open(t, "subject_line", t.subject_line_ciphertext))
                for t in await uow.support_tickets.list_for_subject(subject_id)
            ]

    async def view(self, subject_id: UUID, ticket_id: UUID) -> TicketView:
        """One of the subject's own tickets with our answers (someone else's is simply not found)."""
        async with self._uow() as uow:
            ticket = await uow.support_tickets.get(ticket_id)
            if ticket is None or ticket.subject_id != subject_id:
                raise NotFound("no such ticket")
            return await self._seal(uow).view(ticket)

    # -- staff side ---------------------------------------------------------------------------------------------

    async def queue(
        self,
        staff_id: UUID,
        queue: str,
        *,
        status: str | None = None,
        flag: str | None = None,
        due_within: timedelta | None = None,
    ) -> list[TicketSummary]:
        """Open tickets of one queue, soonest due (then oldest) first; each ticket shown is an audited staff view."""
        categories = _categories(queue)
        statuses = OPEN_STATUSES if status is None else (_open_status(status),)
        if flag is not None and flag not in set(DeadlineFlag):
            raise InvalidInput("flag must be near_due or overdue", field="flag")
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.support_tickets.list_open(
                categories=categories,
                statuses=statuses,
                due_before=None if due_within is None else now + due_within,
                limit=self.rules.queue_limit,
            )
            seal = self._seal(uow)
            shown = []
            for ticket in found:
                if flag is not None and ticket.flag != flag:
                    continue
                await self._audit(
                    uow,
                    ticket,
                    "staff_viewed_support_ticket",
                    ActorKind.STAFF,
                    staff_id,
                    f"listed in the {queue} queue",
                    now,
                )
                shown.append(
                    TicketSummary(ticket, await seal.open(ticket, "subject_line", ticket.subject_line_ciphertext))
                )
            await uow.commit()
        return shown

    async def staff_view(self, staff_id: UUID, queue: str, ticket_id: UUID, reason: str) -> TicketView:
        """A staff member opens one ticket of their queue; the view and its reason are audited."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            ticket = await self._in_queue(uow, queue, ticket_id)
            await self._audit(uow, ticket, "staff_viewed_support_ticket", ActorKind.STAFF, staff_id, reason, now)
            view = await self._seal(uow).view(ticket)
            await uow.commit()
        return view

    async def reply(self, staff_id: UUID, queue: str, ticket_id: UUID, text: str, *, close: bool = True) -> TicketView:
        """Answer a ticket: the answer is mailed to its reply-to address (else the subject's account email) and
        kept with the ticket; a privacy ticket's clock stops. ``close`` closes it too (its retention starts)."""
        text = clean_text(text, field="message", min_length=1, max_length=MAX_MESSAGE, multiline=True)
        now = self._clock.now()
        async with self._uow() as uow:
            ticket = await self._in_queue(uow, queue, ticket_id)
            if ticket.is_closed:
                raise TicketClosed("this ticket is closed")
            seal = self._seal(uow)
            view = await seal.view(ticket)
            if len(view.replies) >= self.rules.max_replies:
                raise InvalidInput(f"a ticket takes at most {self.rules.max_replies} answers", field="message")
            replies = [*view.replies, Reply(text=text, at=now)]
            sealed_replies = await seal.seal(
                ticket, "replies", json.dumps([{"text": r.text, "at": r.at.isoformat()} for r in replies])
            )
            ticket.answer(sealed_replies, now, close=close)
            await uow.support_tickets.update(ticket)
            await self._audit(uow, ticket, "support_ticket.answered", ActorKind.STAFF, staff_id, None, now)
            recipient = view.reply_to or await self._account_email(uow, ticket)
            # Queued with the answer: it is recorded as given exactly when its mail is on its way.
            await self._mail.queue(
                uow,
                MailMessage(
                    to=recipient,
                    subject=f"Re: {view.subject_line}",
                    body=f"{text}\n\n(Your Dreamina {ticket.category} ticket {ticket.id})\n",
                    kind="support_reply",
                ),
                subject_id=ticket.subject_id,
            )
            await uow.commit()
        await self._mail.flush()
        return TicketView(ticket, view.subject_line, view.message, view.reply_to, replies)

    async def close(self, staff_id: UUID, queue: str, ticket_id: UUID, reason: str) -> SupportTicket:
        """Close a ticket without (another) answer, e.g. spam or a duplicate; the reason is audited."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            ticket = await self._in_queue(uow, queue, ticket_id)
            if ticket.is_closed:
                raise TicketClosed("this ticket is already closed")
            ticket.close(now)
            await uow.support_tickets.update(ticket)
            await self._audit(uow, ticket, "support_ticket.closed", ActorKind.STAFF, staff_id, reason, now)
            await uow.commit()
        return ticket

    async def flag_deadlines(self) -> dict[str, int]:
        """The hourly deadline monitor: flag unanswered privacy tickets near or past due (each change once)."""
        now = self._clock.now()
        counts = {"near_due": 0, "overdue": 0}
        async with self._uow() as uow:
            candidates = await uow.support_tickets.list_open(
                categories=QUEUES["privacy"], statuses=(TicketStatus.OPEN,), due_before=now + NEAR_DUE, limit=10_000
            )
            for ticket in candidates:
                assert ticket.due_at is not None
                flag = deadline_flag(ticket.due_at, now)
                if flag is None or flag == ticket.flag:
                    continue
                ticket.raise_flag(flag, now)
                await uow.support_tickets.update(ticket)
                await self._audit(uow, ticket, f"support_ticket.{flag}", ActorKind.SYSTEM, None, None, now)
                counts[flag] += 1
            await uow.commit()
        return counts

    # -- internals ----------------------------------------------------------------------------------------------

    async def _in_queue(self, uow: UnitOfWork, queue: str, ticket_id: UUID) -> SupportTicket:
        categories = _categories(queue)
        ticket = await uow.support_tickets.get(ticket_id)
        if ticket is None or ticket.category not in categories:
            raise NotFound("no such ticket in this queue")
        return ticket

    async def _account_email(self, uow: UnitOfWork, ticket: SupportTicket) -> str:
        assert ticket.subject_id is not None  # an anonymous ticket always has a reply-to address
        account = await uow.accounts.get(ticket.subject_id)
        if account is None:
            raise NotFound("the ticket's account no longer exists")
        keyring = self._keyrings(uow.subject_keys)
        return await keyring.open(ticket.subject_id, "email", account.email_ciphertext)

    async def _audit(
        self,
        uow: UnitOfWork,
        ticket: SupportTicket,
        action: str,
        actor_kind: ActorKind,
        actor_id: UUID | None,
        reason: str | None,
        now: datetime,
    ) -> None:
        # An anonymous ticket has no subject: its trail is keyed by the ticket's random id.
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=ticket.subject_id or ticket.id,
                actor_kind=actor_kind,
                actor_id=actor_id,
                action=action,
                fields=(ticket.category,),
                reason=reason,
                occurred_at=now,
            )
        )


def _due(rule: JurisdictionRule, received_at: datetime) -> datetime:
    return due_date(received_at, rule.response)


def _categories(queue: str) -> tuple[TicketCategory, ...]:
    try:
        return QUEUES[queue]
    except KeyError:
        raise InvalidInput(f"queue must be one of {', '.join(QUEUES)}", field="queue") from None


def _open_status(value: str) -> TicketStatus:
    """A queue filter: one of the statuses a ticket in a queue can have."""
    if value not in OPEN_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(OPEN_STATUSES)}", field="status")
    return TicketStatus(value)


def _reason(value: str) -> str:
    return clean_text(value, field="reason", min_length=3, max_length=MAX_REASON)
