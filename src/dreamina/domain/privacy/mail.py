"""The mail outbox (guarantee: a failed send never undoes or half-does a change, and nothing acknowledged is lost).

A use case queues its message in the unit of work that makes the change (:meth:`MailDelivery.queue`), commits, then
asks for delivery (:meth:`MailDelivery.flush`). Delivery claims each due message (one more attempt and a lease, by
compare-and-set, so two deliverers never send it twice), sends it, and deletes it; a failure leaves it queued with
a back-off. Whatever a flush leaves behind (relay down, process killed) the periodic delivery sends later: the API
process in the embedded profile, ``dreamina privacy-worker`` in production. Messages rest sealed with a key of
their own, wrapped by the master key; they are deleted once delivered, and given up after the schedule's period.

An address that has not proved it reaches its account (``email_verified`` false) is sent only the kinds in
:data:`UNVERIFIED_ADDRESS_KINDS`: the verification itself and security notices. Everything else queued for such a
subject is withheld, so registering somebody else's address sends them nothing but the question whether it is theirs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from dreamina import failpoints
from dreamina.domain.privacy.errors import StoreBusy
from dreamina.domain.privacy.kernel_data import UNDELIVERABLE_MAIL_DAYS
from dreamina.domain.privacy.validation import deliverable_email
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.clock import Clock
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.mail import Mailer, MailMessage, QueuedMail
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

ACCOUNT_EMAIL_INDEX = "email"  # the blind index accounts are found by (identity's EMAIL_INDEX)

# The one list of mail kinds an unverified address may receive (verification and security notices). Modules that
# add a security notice add its kind here.
UNVERIFIED_ADDRESS_KINDS: frozenset[str] = frozenset(
    {
        "verify_email",  # the sign-up verification link, and its resends
        "duplicate_signup",  # somebody tried to sign up with this address
        "email_change_confirm",  # the link that confirms a new address (sent to that address)
        "email_change_requested",  # the old address is told at once, with the undo link
        "email_address_in_use",  # the owner of an address somebody tried to move their account to
        "email_change_undone",  # the restored address: the change was undone and every session signed out
        "sign_in_code",  # past the sign-in throttle: the code that lets the owner in
        "password_reset",  # the reset link asked for at the sign-in page
        "password_changed",  # the password was changed or reset: every other session is signed out
        "age_review_opened",  # a child report put the account under age review: what still works, how to answer
        "age_review_lifted",  # the review is over
        "generation_taken_down",  # staff removed one of the subject's generations after an abuse report
    }
)


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    lease: timedelta = timedelta(minutes=2)  # a claimed message is not tried by anyone else for this long
    first_retry: timedelta = timedelta(seconds=30)
    longest_retry: timedelta = timedelta(hours=1)
    batch: int = 100

    def retry_after(self, attempts: int) -> timedelta:
        """Back-off after the ``attempts``-th failure: 30 s, 1 min, 2 min, ... at most an hour."""
        return min(self.first_retry * (1 << min(max(0, attempts - 1), 16)), self.longest_retry)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0

    def as_counts(self) -> dict[str, int]:
        return {"mail_sent": self.sent, "mail_failed": self.failed}


class MailDelivery:
    """Queues messages in a caller's unit of work and delivers them after commit."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        cipher: FieldCipher,
        mailer: Mailer,
        clock: Clock,
        rules: DeliveryRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._cipher = cipher
        self._mailer = mailer
        self._clock = clock
        self.rules = rules or DeliveryRules()

    async def queue(self, uow: UnitOfWork, message: MailMessage, *, subject_id: UUID | None = None) -> bool:
        """Write ``message`` to the outbox as part of ``uow``: it exists exactly if the change it reports commits.

        Mail to the address of a subject whose address is not verified is withheld unless its kind is in
        :data:`UNVERIFIED_ADDRESS_KINDS`; returns whether the message was queued."""
        if subject_id is not None and message.kind not in UNVERIFIED_ADDRESS_KINDS:
            account = await uow.accounts.get(subject_id)
            if account is not None and not account.email_verified and self._is_address_of(account.email_index, message):
                return False
        mail_id = uuid.uuid4()
        key, wrapped = self._vault.generate_data_key()
        content = {"to": message.to, "subject": message.subject, "body": message.body}
        if message.list_unsubscribe is not None:
            content["list_unsubscribe"] = message.list_unsubscribe
        sealed = self._cipher.seal(key, json.dumps(content).encode("utf-8"), _context(mail_id))
        now = self._clock.now()
        await uow.mail_outbox.add(
            QueuedMail(
                id=mail_id,
                subject_id=subject_id,
                kind=message.kind,
                sealed=sealed,
                wrapped_key=wrapped,
                queued_at=now,
                next_attempt_at=now,
            )
        )
        return True

    def _is_address_of(self, email_index: str, message: MailMessage) -> bool:
        """Whether the message goes to the account's own address (an explicit reply-to elsewhere does not)."""
        return self._vault.blind_index(ACCOUNT_EMAIL_INDEX, message.to) == email_index

    async def flush(self, subject_id: UUID | None = None) -> DeliveryReport:
        """Deliver what is due now, right after a commit. Never raises for a failed delivery or a busy store: what
        it cannot send waits for the next attempt."""
        try:
            return await self.deliver_due(subject_id=subject_id)
        except StoreBusy:
            return DeliveryReport()

    async def deliver_due(self, *, subject_id: UUID | None = None) -> DeliveryReport:
        """One pass over the due messages (of one subject if given)."""
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.mail_outbox.due(now, self.rules.batch, subject_id)
        sent = failed = 0
        for mail in due:
            if not await self._claim(mail, now):
                continue  # another deliverer has it
            try:
                await self._mailer.send(self._open(mail))
            except Exception:  # the relay refused or is down (the port raises on any failure): try again later
                failed += 1
                await self._postpone(mail, now)
                continue
            failpoints.hit("mail.after_send", mail.kind)  # sent, still in the outbox (tests kill here)
            await self._forget(mail.id)
            sent += 1
        return DeliveryReport(sent, failed)

    async def count_for_subject(self, subject_id: UUID) -> int:
        async with self._uow() as uow:
            return await uow.mail_outbox.count_for_subject(subject_id)

    async def erase_subject(self, subject_id: UUID) -> int:
        """Erasure: deliver the subject's due mail (the notice that their erasure runs among it), then delete the
        rest. Returns how many messages were deleted undelivered."""
        await self.flush(subject_id)
        async with self._uow() as uow:
            deleted = await uow.mail_outbox.delete_for_subject(subject_id)
            await uow.commit()
        return deleted

    def _open(self, mail: QueuedMail) -> MailMessage:
        key = self._vault.unwrap(mail.wrapped_key)
        content = json.loads(self._cipher.open(key, mail.sealed, _context(mail.id)))
        return MailMessage(
            to=deliverable_email(content["to"]),
            subject=content["subject"],
            body=content["body"],
            kind=mail.kind,
            list_unsubscribe=content.get("list_unsubscribe"),
            delivery_id=mail.id,  # the same on a redelivery after a crash between sending and forgetting it
        )

    async def _claim(self, mail: QueuedMail, now: datetime) -> bool:
        async with self._uow() as uow:
            claimed = await uow.mail_outbox.claim(mail.id, mail.attempts, now + self.rules.lease)
            await uow.commit()
        return claimed

    async def _postpone(self, mail: QueuedMail, now: datetime) -> None:
        async with self._uow() as uow:
            await uow.mail_outbox.postpone(mail.id, now + self.rules.retry_after(mail.attempts + 1))
            await uow.commit()

    async def _forget(self, mail_id: UUID) -> None:
        async with self._uow() as uow:
            await uow.mail_outbox.delete(mail_id)
            await uow.commit()


def _context(mail_id: UUID) -> str:
    return f"mail/{mail_id}"


class UndeliverableMail:
    """Gives up on messages the relay kept refusing (data map: ``mail_outbox``)."""

    name = "mail_outbox.undeliverable"
    category = DataCategory.ACCOUNT
    description = f"mail still undelivered {UNDELIVERABLE_MAIL_DAYS} days after it was queued is given up"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._period = timedelta(days=UNDELIVERABLE_MAIL_DAYS)

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.mail_outbox.count_queued_before(now - self._period)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.mail_outbox.delete_queued_before(now - self._period, limit)
            await uow.commit()
        return deleted
