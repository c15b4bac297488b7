"""G6 residue test: after an erasure, no table (every column, raw SQL, SQLite and PostgreSQL) and no object (key or
bytes) holds the subject's id, email, prompt text or image bytes; only pseudonymised legal holds remain.

A second subject who is not erased proves the scanner finds what it looks for.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.adapters.memory.processors import RecordingProcessorEraser
from dreamina.adapters.object_store import LocalObjectStore
from dreamina.adapters.sql.database import Database
from dreamina.adapters.sql.schema import metadata
from dreamina.bootstrap import Container, build_container, sql_database
from dreamina.domain.consent.analytics import IncomingEvent, subject_pseudonyms
from dreamina.domain.consent.preferences import Choices, Requester
from dreamina.domain.generation.abuse_intake import IncomingAbuseReport
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.idempotency import Answer, IdempotentRequest
from dreamina.domain.privacy.pseudonyms import erasure_pseudonym
from dreamina.domain.support.addresses import address_index
from dreamina.domain.support.tickets import NewTicket
from dreamina.ports.audit import AuditEvent
from dreamina.ports.consent import ConsentMethod
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.moderation import CheckedContent, ModerationRecord, ModerationReview, ReviewStatus
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import load_settings

from ..contract.unfinished_uploads import abandon_upload
from ..e2e.conftest import test_overrides
from ..e2e.helpers import verify_by_mail

PASSWORD = "correct horse battery staple"


def _needles(container: Container, subject: UUID, email: str, prompt: str, image: bytes) -> dict[str, bytes]:
    """What ties data to the subject: ids, address, prompt, image, and the analytics pseudonym of today (analytics
    rows carry no subject id, so without it an erasure that kept them would leave nothing to find)."""
    today = container.infra.clock.now().date()
    return {
        "subject id (text)": str(subject).encode(),
        "subject id (hex)": subject.hex.encode(),
        "subject id (bytes)": subject.bytes,
        "email": email.encode(),
        "prompt": prompt.encode(),
        "image bytes": image,
        "analytics pseudonym": subject_pseudonyms(container.infra.vault, subject, today)[0].encode(),
        "analytics page": _page(email).encode(),
        # the blind index of the address: what anonymous tickets written from it (and requests about them) carry
        "email blind index": address_index(container.infra.vault, email).encode(),
    }


def _page(email: str) -> str:
    """A page path only this subject's analytics events carry."""
    return "/gallery/" + uuid.uuid5(uuid.NAMESPACE_URL, email).hex


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value).encode()
    if hasattr(value, "bytes") and hasattr(value, "hex") and not isinstance(value, str):  # uuid.UUID, asyncpg UUID
        return str(value).encode() + b"|" + UUID(str(value)).bytes
    return str(value).encode()


async def scan_tables(database: Database, needles: dict[str, bytes]) -> list[str]:
    """Every (table.column, what) where a needle appears: raw ``SELECT *`` over every table of the schema."""
    found: list[str] = []
    async with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            result = await connection.execute(text(f'SELECT * FROM "{table.name}"'))  # noqa: S608 - our own names
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    raw = _as_bytes(value)
                    found.extend(f"{table.name}.{column}: {what}" for what, needle in needles.items() if needle in raw)
    return sorted(set(found))


def _files_on_disk(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def scan_objects(container: Container, needles: dict[str, bytes]) -> list[str]:
    """Every object (key and bytes), every unfinished upload's key, and every file of the store on disk (partial
    files a killed writer left included)."""
    store = container.infra.object_store
    assert isinstance(store, LocalObjectStore)
    found: list[str] = []
    for key in await store.list(""):
        data = key.encode() + b"\n" + await store.get(key)
        found.extend(f"object {key}: {what}" for what, needle in needles.items() if needle in data)
    for key in await store.list_incomplete(""):
        found.extend(f"unfinished upload {key}: {what}" for what, needle in needles.items() if needle in key.encode())
    for path, data in (await asyncio.to_thread(_files_on_disk, store.root)).items():
        found.extend(f"file {path}: {what}" for what, needle in needles.items() if needle in path.encode() + data)
    return sorted(set(found))


@pytest.fixture
async def wired(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Container, Database]]:
    database = sql_database(database_url, pooled=False)
    overrides = test_overrides()
    overrides["object_store"] = LocalObjectStore(tmp_path / "objects", url_signing_key=b"k" * 32, base_url="http://x/")
    overrides["processor_erasers"] = {"stripe": RecordingProcessorEraser("stripe")}
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=database.unit_of_work, **overrides
    )
    await container.start()
    try:
        yield container, database
    finally:
        await container.aclose()
        await database.dispose()


async def _rich_account(container: Container, email: str, prompt: str, image: bytes) -> UUID:
    """An account with every kind of data the service keeps: a real upload and a generation run by the offline
    provider, consents and analytics, a checkout at the payment processor, disclosures, requests and an export;
    an anonymous ticket written from the address before signing up (found once the address is verified), and a
    pending request by that address about it (finding 13 of issue 16)."""
    before = NewTicket("other", "Before I had an account", f"I am {email}, writing about {prompt}", email)
    await container.support.tickets.submit(None, before)
    await container.support.address_requests.submit("access", email)
    await container.identity.registrations.sign_up(
        SignUp(email, PASSWORD, date(1990, 4, 1), "DE", None, 1, "Display " + email)
    )
    await verify_by_mail(container, email)
    token = await container.identity.sessions.issue_token(email, PASSWORD)
    subject = (await container.identity.sessions.authenticate(token.access_token)).account_id
    me = Requester(subject_id=subject)
    await container.consent.choices.choose(me, Choices(functional=True, analytics=True), ConsentMethod.API)
    recorded = await container.consent.analytics.ingest(
        me, [IncomingEvent("page_view", page=_page(email))], address="203.0.113.9", user_agent="Mozilla/5.0"
    )
    assert recorded.recorded == 1
    assert (
        container.generation.uploads is not None
        and container.generation.generations is not None
        and container.billing is not None
    )
    upload = await container.generation.uploads.upload(subject, _real_png())
    # sent with an Idempotency-Key: the kept answer names the subject (and here the prompt and address too)
    retry = IdempotentRequest.of(subject, "POST /v1/generations", f"retry {email}", prompt.encode())
    kept = container.privacy.kept_answers.keep(retry, lambda g: Answer(202, json.dumps([str(g.id), prompt, email])))
    generation = await container.generation.generations.submit(
        subject, GenerationRequest(kind="image", prompt=prompt, reference_upload_ids=[upload.id]), answer=kept
    )
    queue = container.generation.queue
    assert isinstance(queue, ManualJobQueue)
    await queue.drain(container.generation.runner.run)
    # an abuse report the subject filed signed in, about a generation of their own: reporter and owner at once
    reported = IncomingAbuseReport(
        "other", f"subject:{subject}", generation.id, contact=email, details=f"about {prompt}", reporter_id=subject
    )
    await container.abuse.intake.report(reported)
    assert (await container.abuse.matching.run_due())["abuse_reports_filed"] == 1
    await container.billing.checkout.start(subject, "starter")
    assert await container.billing.credits.balance(subject) > 0  # the welcome grant, keyed by the subject (finding 13)
    store = container.infra.object_store
    await store.put(f"uploads/{subject}/ref.png", image, "image/png")
    await store.put(f"outputs/{subject}/gen1/out.png", image[::-1] + image, "image/png")
    abandon_upload(store, f"outputs/{subject}/gen2/out.png", data=image)  # a worker killed while storing an output
    now = container.infra.clock.now()
    async with container.infra.uow() as uow:
        await uow.disclosures.record(
            Disclosure(
                uuid.uuid4(), subject, "stripe", ("account", "payment"), "process_payments", f"cus_{subject.hex}", now
            )
        )
        await uow.disclosures.record(
            Disclosure(uuid.uuid4(), subject, "openai", ("content",), "generate_content", None, now)
        )
        await uow.audit.append(
            AuditEvent(uuid.uuid4(), subject, "subject", subject, "generation", ("prompt",), f"prompt: {prompt}", now)
        )
        # a refused prompt and the review repeated refusals opened (issue 17)
        refused = ModerationRecord(uuid.uuid4(), subject, CheckedContent.PROMPT, "violence", "0" * 64, now)
        await uow.moderation_records.add(refused)
        await uow.moderation_reviews.add(ModerationReview(uuid.uuid4(), subject, ReviewStatus.OPEN, 5, now))
        await uow.commit()
    rights = container.data_rights.requests
    await rights.submit(subject, "rectification", {"corrections": {"display_name": "New " + email}})
    await rights.submit(subject, "rectification", {"free_text": f"please fix, I am {email}; {prompt}"})
    await container.consent.improvement.choose(subject, True)
    await rights.submit(subject, "objection", {"purpose": "analytics"})
    await rights.submit(subject, "restriction", {"action": "restrict", "reason": f"contesting {prompt}"})
    await rights.submit(subject, "access", {})
    await rights.submit(subject, "export", {}, password=PASSWORD)
    await container.data_rights.jobs.run_due()
    staff_view = container.data_rights.queue.staff_view
    await staff_view(uuid.uuid4(), (await rights.list_for_subject(subject))[0].id, "support ticket")
    question = NewTicket("privacy", f"About {prompt}", f"I am {email}; what do you keep of {prompt}?", email)
    ticket = await container.support.tickets.submit(subject, question)
    await container.support.tickets.staff_view(uuid.uuid4(), "privacy", ticket.id, "answering the question")
    await container.support.tickets.reply(
        uuid.uuid4(), "privacy", ticket.id, f"Dear {email}: {prompt} is kept.", close=False
    )
    return subject


def _real_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_nothing_links_to_an_erased_subject(wired: tuple[Container, Database]) -> None:
    container, database = wired
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    image_a = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 8
    image_b = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 8
    erased = await _rich_account(container, "erase.me@example.com", "a red fox at dawn", image_a)
    kept = await _rich_account(container, "keep.me@example.com", "a blue whale at dusk", image_b)
    erased_needles = _needles(container, erased, "erase.me@example.com", "a red fox at dawn", image_a)
    kept_needles = _needles(container, kept, "keep.me@example.com", "a blue whale at dusk", image_b)

    # before: the scanner sees the subject everywhere it is stored
    before = await scan_tables(database, erased_needles)
    assert {"accounts.id: subject id (bytes)", "privacy_requests.subject_id: subject id (bytes)"} <= {
        f.replace("subject id (text)", "subject id (bytes)") for f in before
    }
    assert {
        "support_tickets.reply_to_index: email blind index",
        "ticket_address_requests.address_index: email blind index",
    } <= set(before)
    assert await scan_objects(container, erased_needles)

    await container.data_rights.requests.submit(erased, "erasure", {"reason": "leaving"}, password=PASSWORD)
    clock.advance(timedelta(days=30, seconds=1))
    assert (await container.data_rights.jobs.run_due())["done"] >= 1

    assert await scan_tables(database, erased_needles) == []
    assert await scan_objects(container, erased_needles) == []
    # the legal holds are still there, under the pseudonym
    pseudonym = erasure_pseudonym(container.infra.vault, erased)
    async with container.infra.uow() as uow:
        assert len(await uow.audit.list_for_subject(pseudonym)) > 5
        assert {"stripe", "openai"} <= {d.processor for d in await uow.disclosures.list_for_subject(pseudonym)}
    # the subject who was not erased is untouched, and the scanner finds them
    kept_rows = await scan_tables(database, kept_needles)
    assert any(f.startswith("accounts.") for f in kept_rows)
    assert any(f.startswith("privacy_requests.") for f in kept_rows)
    assert "support_tickets.reply_to_index: email blind index" in kept_rows  # their anonymous ticket is still there
    for table in (
        "analytics_events",
        "generations",
        "uploads",
        "consent_records",
        "billing_customers",
        "checkout_sessions",
        "support_tickets",
        "idempotency_records",
        "abuse_reports",
    ):
        assert any(f.startswith(table + ".") for f in kept_rows), table  # every module's data was really there
    assert any("image bytes" in f for f in await scan_objects(container, kept_needles))


@pytest.fixture
async def on_every_store(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> AsyncIterator[Container]:
    """The service over the memory fakes, SQLite and PostgreSQL (``uow_factory``), objects in a local folder."""
    overrides = test_overrides()
    overrides["object_store"] = LocalObjectStore(tmp_path / "objects", url_signing_key=b"k" * 32, base_url="http://x/")
    overrides["processor_erasers"] = {"stripe": RecordingProcessorEraser("stripe")}
    container = build_container(load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=uow_factory, **overrides)
    await container.start()
    try:
        yield container
    finally:
        await container.aclose()


async def test_an_export_holds_nothing_of_another_subject(on_every_store: Container) -> None:
    """G5 isolation: two subjects with data in every holder; the archive of one holds none of the other's needles
    (analytics found by pseudonym included), and does hold its own."""
    container = on_every_store
    image_a, image_b = (b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 8 for _ in range(2))
    mine = await _rich_account(container, "export.me@example.com", "a green heron in reeds", image_a)
    other = await _rich_account(container, "other.one@example.com", "a grey owl at noon", image_b)
    rights = container.data_rights.requests
    request = await rights.submit(mine, "export", {}, password=PASSWORD)
    await container.data_rights.jobs.run_due()
    key = next(k for k in await container.infra.object_store.list(f"exports/{mine}/") if str(request.id) in k)
    with zipfile.ZipFile(io.BytesIO(await container.infra.object_store.get(key))) as archive:
        contents = b"\n".join(name.encode() + b"\n" + archive.read(name) for name in archive.namelist())
    own = _needles(container, mine, "export.me@example.com", "a green heron in reeds", image_a)
    foreign = _needles(container, other, "other.one@example.com", "a grey owl at noon", image_b)
    assert [what for what, needle in foreign.items() if needle in contents] == []
    assert {"subject id (text)", "email", "prompt", "analytics page"} <= {w for w, n in own.items() if n in contents}
