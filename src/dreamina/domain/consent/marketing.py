"""Marketing mail (policy sections 3, 4 and 7): the one path that mails subjects for the ``marketing`` purpose.

Staff (admin) write a message; :meth:`MarketingMail.create` records it as a campaign and returns at once. The job,
:meth:`MarketingMail.send_due` (the embedded process's periodic loop and ``dreamina privacy-worker``), walks the
accounts that existed when the campaign was created, in id order, a batch at a time. Each batch decides every
recipient's eligibility, queues their mail in the outbox and moves the campaign's cursor past them (with its counts)
in ONE unit of work, the cursor moved by compare-and-set: a run killed anywhere resumes after the last committed
batch, so nobody is mailed twice and nobody is skipped, and of two senders racing on a batch one loses and re-reads.

Eligibility is decided per recipient inside the batch that mails them, from committed state, so a withdrawal made a
moment before the batch reaches someone wins. A recipient gets the message only if, at that moment:

- their latest consent record has ``marketing`` true (a GPC signal already forces it false);
- they do not object to ``marketing`` (``PUT /v1/me/objections``, a privacy request of type objection, or the
  one-click unsubscribe link);
- their processing is not restricted, and no erasure request of theirs is open;
- their account is active (not suspended, under age review or erased) with a verified address.

Every message carries a one-click unsubscribe link (:mod:`dreamina.domain.consent.marketing_links`), in its body and
as RFC 8058 headers; following it records a marketing objection without signing in, even for a restricted account.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dreamina.domain.consent.marketing_links import UnsubscribeLinks
from dreamina.domain.privacy.errors import Conflict, InvalidInput, KeyDestroyed, NotFound
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.consent import Objection
from dreamina.ports.data_rights import RequestType
from dreamina.ports.identity import AccountStatus
from dreamina.ports.mail import MailMessage
from dreamina.ports.marketing import CampaignStatus, MarketingCampaign
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

MAX_SUBJECT_LINE = 150
MAX_BODY = 20_000
CAMPAIGN_BATCH = 200
CAMPAIGNS_PER_PASS = 5
MAIL_KIND = "marketing"


@dataclass(frozen=True, slots=True)
class BatchResult:
    sent: int
    skipped: int


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # can disguise text


def _refused(ch: str) -> bool:
    """Control, surrogate, private-use and unassigned characters, and bidirectional overrides; other format
    characters (the zero-width joiner of emoji sequences) are text."""
    category = unicodedata.category(ch)
    return (category.startswith("C") and category != "Cf") or ch in _BIDI_CONTROLS


def _text(value: object, field: str, limit: int, *, lines: bool) -> str:
    """Printable text of 1 to ``limit`` characters; line breaks (and tabs) only where ``lines``."""
    allowed = {"\n", "\t"} if lines else set()
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = value.replace("\r\n", "\n").strip() if lines else value.strip()
    if not text or len(text) > limit:
        raise InvalidInput(f"{field} must be 1 to {limit} characters", field=field)
    if any(_refused(ch) and ch not in allowed for ch in text):
        what = "control characters" if lines else "line breaks or control characters"
        raise InvalidInput(f"{field} must not contain {what}", field=field)
    return text


async def _audit(
    uow: UnitOfWork, actor_id: UUID, kind: ActorKind, action: str, store: str, reason: str, at: datetime
) -> None:
    """An audit event of an act on the actor's own record (the staff member's campaign, the subject's objection)."""
    await uow.audit.append(AuditEvent(uuid.uuid4(), actor_id, kind, actor_id, action, (store,), reason, at))


class MarketingMail:
    """Use cases of marketing mail; each commits its own units of work."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        mail: MailDelivery,
        keyrings: Keyrings,
        links: UnsubscribeLinks,
        clock: Clock,
        batch_size: int = CAMPAIGN_BATCH,
    ) -> None:
        self._uow = uow
        self._mail = mail
        self._keyrings = keyrings
        self.links = links  # the one-click unsubscribe links its mail carries
        self._clock = clock
        self._batch = batch_size

    async def create(self, staff_id: UUID, subject_line: str, body: str) -> MarketingCampaign:
        """Record a campaign (audited as the staff member's act); the job sends it."""
        campaign = MarketingCampaign(
            id=uuid.uuid4(),
            subject_line=_text(subject_line, "subject_line", MAX_SUBJECT_LINE, lines=False),
            body=_text(body, "body", MAX_BODY, lines=True),
            status=CampaignStatus.PENDING,
            created_at=self._clock.now(),
        )
        async with self._uow() as uow:
            await uow.marketing_campaigns.add(campaign)
            event = (ActorKind.STAFF, "marketing_campaign_created", "marketing_campaigns", f"campaign {campaign.id}")
            await _audit(uow, staff_id, *event, campaign.created_at)
            await uow.commit()
        return campaign

    async def campaign(self, campaign_id: UUID) -> MarketingCampaign:
        async with self._uow() as uow:
            found = await uow.marketing_campaigns.get(campaign_id)
        if found is None:
            raise NotFound("no such campaign")
        return found

    async def send_due(self) -> int:
        """The job: finish every campaign not done yet, oldest first; returns how many mails it queued."""
        async with self._uow() as uow:
            campaigns = await uow.marketing_campaigns.unfinished(CAMPAIGNS_PER_PASS)
        return sum([await self.send(campaign.id) for campaign in campaigns])

    async def send(self, campaign_id: UUID) -> int:
        """Send the campaign to the rest of its audience, batch by batch; resumable, returns how many were mailed."""
        sent = 0
        while True:
            try:
                result = await self._send_batch(campaign_id)
            except Conflict:  # another sender moved the cursor first: read the next batch afresh
                continue
            if result is None:
                return sent
            await self._mail.flush()
            sent += result.sent

    async def _send_batch(self, campaign_id: UUID) -> BatchResult | None:
        now = self._clock.now()
        async with self._uow() as uow:
            campaign = await uow.marketing_campaigns.get(campaign_id)
            if campaign is None:
                raise NotFound("no such campaign")
            if campaign.status is CampaignStatus.DONE:
                return None
            audience = await uow.marketing_campaigns.audience(campaign.created_at, campaign.cursor, self._batch)
            if not audience:  # everybody considered: done (the cursor, an account id, goes with it)
                campaign.finish(now)
                await uow.marketing_campaigns.update(campaign)
                await uow.commit()
                return None
            if campaign.status is CampaignStatus.PENDING:  # its first batch: sending from now on
                campaign.start(now)
                await uow.marketing_campaigns.update(campaign)
            sent = 0
            for subject_id in audience:
                address = await self._eligible_address(uow, subject_id)
                if address is None:
                    continue
                message = MailMessage(
                    to=address,
                    subject=campaign.subject_line,
                    body=self._body(campaign.body, link := self.links.url(subject_id, now)),
                    kind=MAIL_KIND,
                    list_unsubscribe=link,
                )
                sent += await self._mail.queue(uow, message, subject_id=subject_id)
            skipped = len(audience) - sent
            if not await uow.marketing_campaigns.advance(campaign_id, campaign.cursor, audience[-1], sent, skipped):
                raise Conflict("another sender sent this batch")  # leaving without commit drops its mail
            await uow.commit()
        return BatchResult(sent, skipped)

    async def _eligible_address(self, uow: UnitOfWork, subject_id: UUID) -> str | None:
        """The subject's address if they may get marketing mail right now, else None."""
        account = await uow.accounts.get(subject_id)
        if account is None or account.status is not AccountStatus.ACTIVE or not account.email_verified:
            return None
        consent = await uow.consent_records.latest_for_subject(subject_id)
        if consent is None or not consent.marketing or consent.gpc:
            return None
        if await uow.objections.objects_to(subject_id, Purpose.MARKETING):
            return None
        if await uow.restrictions.is_restricted(subject_id):
            return None
        requests = await uow.privacy_requests.list_for_subject(subject_id)
        if any(r.type is RequestType.ERASURE and not r.status.terminal for r in requests):
            return None
        try:
            return await self._keyrings(uow.subject_keys).open(subject_id, "email", account.email_ciphertext)
        except (KeyDestroyed, ValueError):
            return None

    @staticmethod
    def _body(body: str, link: str) -> str:
        return (
            f"{body}\n\n--\nYou get this because you agreed to marketing mail from Dreamina. To stop it, open "
            f"{link} (one click, no sign-in), or change your choice in your privacy settings at any time.\n"
        )

    async def unsubscribe(self, token: str) -> None:
        """The one-click link: record a marketing objection for the subject it names. The same answer whatever the
        account's state, and a second click changes nothing; an account that is gone (erased) gets no record back,
        a restricted one does (objecting is the subject's right, not processing of their data)."""
        now = self._clock.now()
        subject_id = self.links.subject_of(token, now)
        async with self._uow() as uow:
            account = await uow.accounts.get(subject_id)
            if account is None or account.status is AccountStatus.ERASED:
                return
            if await uow.objections.objects_to(subject_id, Purpose.MARKETING):
                return
            await uow.objections.put(Objection(subject_id, Purpose.MARKETING, True, now))
            event = (ActorKind.SUBJECT, "objection_recorded", "objections", "one-click unsubscribe in a marketing mail")
            await _audit(uow, subject_id, *event, now)
            await uow.commit()

    def check_link(self, token: str) -> None:
        """Whether a link is genuine and unexpired (the page it opens), changing nothing."""
        self.links.subject_of(token, self._clock.now())
