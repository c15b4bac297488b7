"""Mail written to a local outbox directory as ``.eml`` files (embedded profile, development, tests)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

from dreamina.adapters.logs import get_logger
from dreamina.domain.privacy.kernel_data import OUTBOX_FILE_DAYS
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.clock import Clock
from dreamina.ports.mail import MailMessage

KIND_HEADER = "X-Dreamina-Kind"
UNSUBSCRIBE_HEADER = "List-Unsubscribe"  # RFC 2369, with RFC 8058's one-click POST
UNSUBSCRIBE_POST_HEADER = "List-Unsubscribe-Post"
ONE_CLICK = "List-Unsubscribe=One-Click"
_POLICY = policy.SMTP  # RFC 5322 wants CRLF line endings

log = get_logger("dreamina.mail.outbox")


def check_message(message: MailMessage) -> None:
    """Reject what a mail header cannot carry: line breaks in header fields, or anything but one address."""
    for name in ("to", "subject", "kind"):
        value = getattr(message, name)
        if "\r" in value or "\n" in value:
            raise ValueError(f"mail {name} must not contain line breaks")
    if message.to.count("@") != 1 or any(ch.isspace() or ch in ',;<>"' for ch in message.to):
        raise ValueError("mail recipient must be a single bare address")
    if not message.kind:
        raise ValueError("mail kind must not be empty")
    link = message.list_unsubscribe
    if link is not None and (not link.startswith(("https://", "http://")) or any(c in link for c in "\r\n <>,")):
        raise ValueError("mail unsubscribe link must be one bare http(s) URL")


def add_headers(email: EmailMessage, message: MailMessage) -> None:
    """The headers every mailer adds after Message-ID: the kind, and for marketing mail the RFC 8058 one-click
    unsubscribe pair (``List-Unsubscribe: <url>``, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``)."""
    email[KIND_HEADER] = message.kind
    if message.list_unsubscribe is not None:
        # A link does not fit in 78 columns and has no place to fold: under the usual limit the header would go out
        # as RFC 2047 encoded words, which no mail client reads as a URL. RFC 5322's hard limit is 998.
        email.policy = email.policy.clone(max_line_length=998)
        email[UNSUBSCRIBE_HEADER] = f"<{message.list_unsubscribe}>"
        email[UNSUBSCRIBE_POST_HEADER] = ONE_CLICK


class OutboxMailer:
    """Writes each message as an RFC 5322 ``.eml`` file into ``directory`` instead of talking to SMTP.

    Files are named ``<ns timestamp>-<id>.eml`` so a directory listing is in sending order; each is written to a
    hidden temporary file and renamed, so readers never see half a message. The id is the message's
    ``delivery_id`` (else random): a message whose file is already there was delivered by a deliverer killed before
    the outbox forgot it, and is not written again. Bodies keep their text, with line endings normalised to
    ``\\n`` as SMTP would.
    """

    def __init__(
        self,
        directory: Path | str,
        sender: str = "Dreamina <no-reply@dreamina.invalid>",
        clock: Clock | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.sender = sender
        self._now = clock.now if clock else lambda: datetime.now(UTC)
        self._msgid_domain = sender.rsplit("@", 1)[-1].strip(" >") or "dreamina.invalid"
        self._last_stamp = 0
        self._stamp_lock = threading.Lock()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def send(self, message: MailMessage) -> None:
        check_message(message)
        payload = self._render(message)
        ident = message.delivery_id.hex if message.delivery_id is not None else uuid.uuid4().hex[:12]
        if not await asyncio.to_thread(self._write, payload, ident, message.delivery_id is not None):
            log.warning("mail_redelivery_skipped", kind=message.kind)  # a deliverer died between send and forget

    def _render(self, message: MailMessage) -> bytes:
        email = EmailMessage(policy=_POLICY)
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = format_datetime(self._now())
        email["Message-ID"] = message_id(message, self._msgid_domain)
        add_headers(email, message)
        # set_content always ends the body with a newline; adding our own lets read_outbox strip exactly one
        email.set_content(message.body + "\n")
        return email.as_bytes()

    def _write(self, payload: bytes, ident: str, once: bool) -> bool:
        """Write the message's file; False if ``once`` and a file of this id is there already."""
        if once and any(self.directory.glob(f"[!.]*-{ident}.eml")):
            return False
        name = f"{self._next_stamp():020d}-{ident}.eml"
        temporary = self.directory / f".{name}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.directory / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return True

    def _next_stamp(self) -> int:
        # strictly increasing even if the wall clock steps back or two sends land in the same nanosecond
        with self._stamp_lock:
            self._last_stamp = max(time.time_ns(), self._last_stamp + 1)
            return self._last_stamp


def message_id(message: MailMessage, domain: str) -> str:
    """The Message-ID header: the outbox message's id when it has one (every delivery attempt of a message carries
    the same), else a fresh one. ``make_msgid`` is given the domain: without it, it asks DNS for the FQDN, which can
    stall for seconds."""
    if message.delivery_id is not None:
        return f"<{message.delivery_id.hex}@{domain}>"
    return make_msgid(domain=domain)


class ExpiredOutboxFiles:
    """The retention task of the outbox folder (data map: ``mail_outbox_folder``): a message file is deleted
    ``OUTBOX_FILE_DAYS`` after it was written (its modification time), and so is a temporary file a crash left.

    Registered in every profile: a folder an earlier embedded run filled is swept even after a switch to SMTP.
    """

    name = "mail_outbox_folder.expired"
    category = DataCategory.ACCOUNT
    description = f"mail files in the embedded outbox folder are deleted {OUTBOX_FILE_DAYS} days after written"

    def __init__(self, directory: Path | str, days: int = OUTBOX_FILE_DAYS) -> None:
        self.directory = Path(directory)
        self._period = timedelta(days=days)

    def _expired(self, now: datetime) -> list[Path]:
        if not self.directory.is_dir():
            return []
        cutoff = (now - self._period).timestamp()
        expired: list[Path] = []
        for path in self.directory.glob("*.eml*"):
            try:
                if path.stat().st_mtime < cutoff:
                    expired.append(path)
            except FileNotFoundError:  # another sweep got there first
                continue
        return sorted(expired)

    async def due(self, now: datetime) -> int:
        return len(await asyncio.to_thread(self._expired, now))

    async def apply(self, now: datetime, limit: int) -> int:
        return await asyncio.to_thread(self._delete, now, limit)

    def _delete(self, now: datetime, limit: int) -> int:
        deleted = 0
        for path in self._expired(now)[:limit]:
            try:
                path.unlink()
            except FileNotFoundError:  # two sweeps at once: the other one counted it
                continue
            deleted += 1
        return deleted


def read_outbox(directory: Path | str) -> list[MailMessage]:
    """The messages in an outbox directory, oldest first (a helper for tests and local development)."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    messages: list[MailMessage] = []
    for path in sorted(folder.glob("[!.]*.eml")):
        email = parser.parsebytes(path.read_bytes())
        assert isinstance(email, EmailMessage)
        body = email.get_content().replace("\r\n", "\n")
        messages.append(
            MailMessage(
                to=_address(email),
                subject=str(email["Subject"] or ""),
                body=body[:-1] if body.endswith("\n") else body,
                kind=str(email[KIND_HEADER] or ""),
                list_unsubscribe=_unsubscribe_link(email),
            )
        )
    return messages


def _address(email: EmailMessage) -> str:
    header = email["To"]
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    return addresses[0].addr_spec if len(addresses) == 1 else str(header or "")


def _unsubscribe_link(email: EmailMessage) -> str | None:
    header = email[UNSUBSCRIBE_HEADER]
    return None if header is None else str(header).strip().removeprefix("<").removesuffix(">")
