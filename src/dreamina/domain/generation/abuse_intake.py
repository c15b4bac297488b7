"""Abuse reports about generated content, from anyone, signed in or not (policy section 3: preventing abuse).

A report names a generation by its id or by one of our download links, a reason from a fixed list, and optionally
a contact address and free text. The answer is the same 202 whether or not the generation exists, after the same
work: the report is counted against its client and its target (keyed hashes; past either limit, 429 for any
target), sealed whole with a key of its own and put in the inbox (the children's flow's machinery,
:mod:`~dreamina.domain.privacy.sealed_inbox`). Nothing looks for the generation before the answer; matching
(:mod:`~dreamina.domain.generation.abuse_matching`) files it or drops it seconds later.

A download link is read without trusting it: it must be one of our signed links (:class:`OutputLinks` says which
object it names, checking the signature where our store signs links itself) naming an output's key; anything else
is 422 before anything is counted or stored. Which generation it names is only looked up by matching, which also
checks the object is really one of that generation's outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dreamina.domain.generation.rules import OUTPUT_PREFIX
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.domain.privacy.sealed_inbox import ReportSeal, ReportThrottle
from dreamina.domain.privacy.validation import clean_text, normalise_email
from dreamina.ports.abuse_reports import AbuseReason, OutputLinks
from dreamina.ports.clock import Clock
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.security import AttemptCounter
from dreamina.ports.unit_of_work import UnitOfWorkFactory

MAX_DETAILS = 2000
MAX_URL = 4096
INBOX = "abuse_report_inbox"


@dataclass(frozen=True, slots=True)
class AbuseReportRules:
    """Tunables (``DREAMINA_ABUSE_REPORTS_PER_*``). The retention periods are the data map's declaration."""

    per_target_limit: int = 20  # reports about one generation per window; beyond, 429
    per_target_window_seconds: int = 24 * 3600
    per_client_limit: int = 10  # reports from one client (the signed-in subject, else the address) per window
    per_client_window_seconds: int = 3600
    queue_limit: int = 200
    match_batch: int = 50  # received reports matched per pass


@dataclass(frozen=True, slots=True)
class IncomingAbuseReport:
    """What a reporter sends: the generation (its id or a download link, exactly one) and why."""

    reason: str
    client: str  # who is counted: the signed-in subject's id, else the client's address (never stored)
    generation_id: UUID | None = None
    output_url: str | None = None
    contact: str | None = None
    details: str | None = None
    reporter_id: UUID | None = None  # the signed-in reporter


class AbuseReportIntake:
    """Receives abuse reports; each call is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        cipher: FieldCipher,
        clock: Clock,
        attempts: AttemptCounter,
        links: OutputLinks,
        rules: AbuseReportRules | None = None,
    ) -> None:
        self._uow = uow
        self._links = links
        self._throttle = ReportThrottle(vault, attempts, "abuse-report")
        self._seal = ReportSeal(vault, cipher, clock, INBOX)
        self.rules = rules or AbuseReportRules()

    async def report(self, incoming: IncomingAbuseReport) -> None:
        """Receive a report. Returns nothing either way: whether the generation exists is never revealed here."""
        if incoming.reason not in AbuseReason._value2member_map_:
            raise InvalidInput(f"reason must be one of {', '.join(AbuseReason)}", field="reason")
        contact = None if incoming.contact is None else normalise_email(incoming.contact, field="contact")
        details = None
        if incoming.details is not None:
            details = clean_text(incoming.details, field="details", max_length=MAX_DETAILS, multiline=True) or None
        if (incoming.generation_id is None) == (incoming.output_url is None):
            raise InvalidInput("give the generation's id or its download link, not both", field="generation_id")
        object_key = None
        if incoming.output_url is not None:
            generation_id, object_key = await self._read_link(incoming.output_url)
        else:
            assert incoming.generation_id is not None
            generation_id = incoming.generation_id

        rules = self.rules
        await self._throttle.admit(
            "target", str(generation_id), rules.per_target_limit, rules.per_target_window_seconds
        )
        await self._throttle.admit("client", incoming.client, rules.per_client_limit, rules.per_client_window_seconds)
        received = self._seal.seal(
            {
                "generation_id": str(generation_id),
                "object_key": object_key,
                "reason": incoming.reason,
                "contact": contact,
                "details": details,
                "reporter_id": None if incoming.reporter_id is None else str(incoming.reporter_id),
            }
        )
        async with self._uow() as uow:
            await uow.abuse_report_inbox.add(received)
            await uow.commit()

    async def _read_link(self, url: str) -> tuple[UUID, str]:
        """The generation id and object key a download link names; 422 unless it is one of our output links."""
        refused = InvalidInput("output_url is not one of our download links for a generated output", field="output_url")
        if not isinstance(url, str) or len(url) > MAX_URL:
            raise refused
        key = await self._links.object_key(url.strip())
        if key is None:
            raise refused
        parts = key.split("/")
        if len(parts) < 4 or parts[0] != OUTPUT_PREFIX or not parts[-1]:
            raise refused
        try:
            UUID(parts[1])
            return UUID(parts[2]), key
        except ValueError:
            raise refused from None
