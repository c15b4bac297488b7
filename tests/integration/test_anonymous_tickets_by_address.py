"""Issue 16 finding 13: anonymous support tickets are reachable by access and erasure, on memory, SQLite and
PostgreSQL: a person without an account proves their address with a mailed link; an account holder's own access,
export and erasure reach the anonymous tickets written from their *verified* address; tickets stored before the
blind index existed are indexed at start-up."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, build_container
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.support.tickets import NewTicket
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import load_settings

from ..e2e.conftest import test_overrides
from ..e2e.helpers import TOKEN_IN_LINK, verify_by_mail

PASSWORD = "correct horse battery staple"
STAFF = UUID(int=7)


def _wire(uow_factory: UnitOfWorkFactory, tmp_path: Path, overrides: dict[str, Any]) -> Container:
    return build_container(load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=uow_factory, **overrides)


@pytest.fixture
async def container(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> AsyncIterator[Container]:
    wired = _wire(uow_factory, tmp_path, test_overrides())
    await wired.start()
    try:
        yield wired
    finally:
        await wired.aclose()


def _link_token(container: Container, to: str) -> str:
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    [body] = [m.body for m in mailer.sent if m.to == to and m.kind == "ticket_address_request"][-1:]
    found = TOKEN_IN_LINK.search(body)
    assert found is not None
    return found.group(1)


async def _anonymous(container: Container, reply_to: str, text: str, category: str = "privacy") -> UUID:
    ticket = await container.support.tickets.submit(None, NewTicket(category, f"About {text}", text, reply_to))
    return ticket.id


async def test_a_person_without_an_account_sees_then_erases_the_tickets_of_their_address(container: Container) -> None:
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    first = await _anonymous(container, "writer@example.com", "please tell me what you keep")
    clock.advance(timedelta(minutes=1))
    second = await _anonymous(container, "Writer@Example.COM", "and delete my old gallery", "other")
    other = await _anonymous(container, "someone.else@example.com", "a message of someone else")
    await container.support.tickets.reply(STAFF, "privacy", first, "We keep nothing else.", close=False)
    requests = container.support.address_requests

    await requests.submit("access", " WRITER@example.com ")
    shown = await requests.confirm(_link_token(container, "writer@example.com"))
    assert [v.ticket.id for v in shown.tickets] == [second, first]  # newest first
    assert shown.tickets[1].message == "please tell me what you keep"
    assert [r.text for r in shown.tickets[1].replies] == ["We keep nothing else."]
    assert {v.reply_to for v in shown.tickets} == {"writer@example.com"}
    with pytest.raises(NotFound):  # the link works once
        await requests.confirm(_link_token(container, "writer@example.com"))

    await requests.submit("erasure", "writer@example.com")
    done = await requests.confirm(_link_token(container, "writer@example.com"))
    assert done.erased == 2 and done.completion_id is not None
    async with container.infra.uow() as uow:
        assert await uow.support_tickets.get(first) is None and await uow.support_tickets.get(second) is None
        assert await uow.support_tickets.get(other) is not None
        completion = await uow.erasure_completions.get(done.completion_id)
        assert completion is not None and completion.outcome["support_tickets"] == 2
        assert "writer" not in json.dumps(completion.outcome)
    await requests.submit("access", "writer@example.com")  # within the window of the first: no second mail
    with pytest.raises(NotFound):
        await requests.confirm(_link_token(container, "writer@example.com"))
    clock.advance(timedelta(minutes=16))
    await requests.submit("access", "writer@example.com")
    assert (await requests.confirm(_link_token(container, "writer@example.com"))).tickets == []


async def test_bad_requests_by_address_are_refused_and_links_expire(container: Container) -> None:
    requests = container.support.address_requests
    with pytest.raises(InvalidInput) as kind:
        await requests.submit("export", "writer@example.com")
    assert kind.value.field == "type"
    with pytest.raises(InvalidInput) as address:
        await requests.submit("access", "not an address")
    assert address.value.field == "email"
    for token in ("", "x" * 129, "unknown-token"):
        with pytest.raises(NotFound):
            await requests.confirm(token)
    await _anonymous(container, "late@example.com", "a question from long ago")
    await requests.submit("erasure", "late@example.com")
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(hours=24, seconds=1))
    with pytest.raises(NotFound):
        await requests.confirm(_link_token(container, "late@example.com"))
    clock.advance(timedelta(days=1))
    swept = {r.task: r.applied for r in await container.privacy.retention.run()}
    assert swept["ticket_address_requests.expired"] == 1


async def _account(container: Container, email: str) -> UUID:
    await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 4, 1), "DE", None, 1, None))
    token = await container.identity.sessions.issue_token(email, PASSWORD)
    return (await container.identity.sessions.authenticate(token.access_token)).account_id


async def test_an_account_reaches_the_anonymous_tickets_of_its_verified_address_only(container: Container) -> None:
    before = await _anonymous(container, "ada@example.com", "written before signing up")
    unrelated = await _anonymous(container, "bob@example.com", "written by somebody else")
    ada = await _account(container, "ada@example.com")
    [holder] = [h for h in container.data_rights.holders if h.name == "support"]
    # unverified: registering someone's address must not hand over their messages
    assert (await holder.count(ada))["support_tickets"] == 0
    await verify_by_mail(container, "ada@example.com")
    assert (await holder.count(ada))["support_tickets"] == 1

    rights = container.data_rights.requests
    access = await rights.submit(ada, "access", {})
    report = await container.data_rights.access_reports.for_request(ada, access.id)
    assert any(e["store"] == "support_tickets" and e["records"] == 1 for e in report["held"])

    export = await rights.submit(ada, "export", {}, password=PASSWORD)
    await container.data_rights.jobs.run_due()
    key = next(k for k in await container.infra.object_store.list(f"exports/{ada}/") if str(export.id) in k)
    with zipfile.ZipFile(io.BytesIO(await container.infra.object_store.get(key))) as archive:
        [name] = [n for n in archive.namelist() if "support_tickets" in n]
        exported = json.loads(archive.read(name))
    assert [(r["id"], r["written_signed_in"], r["message"]) for r in exported] == [
        (str(before), False, "written before signing up")
    ]

    await rights.submit(ada, "erasure", {}, password=PASSWORD)
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(days=30, seconds=1))
    assert (await container.data_rights.jobs.run_due())["done"] >= 1
    async with container.infra.uow() as uow:
        assert await uow.support_tickets.get(before) is None
        assert await uow.support_tickets.get(unrelated) is not None


async def test_tickets_stored_before_the_index_existed_are_indexed_at_start_up(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    overrides = test_overrides()
    first = _wire(uow_factory, tmp_path, overrides)
    await first.start()
    old = [await _anonymous(first, f"old{n}@example.com", f"stored before migration 0020, {n}") for n in range(3)]
    async with first.infra.uow() as uow:  # as migration 0020 leaves them: no index yet
        for ticket_id in old:
            ticket = await uow.support_tickets.get(ticket_id)
            assert ticket is not None and ticket.reply_to_index is not None
            ticket.reply_to_index = None
            await uow.support_tickets.update(ticket)
        await uow.commit()
    await first.aclose()
    async with first.infra.uow() as uow:
        assert len(await uow.support_tickets.list_unindexed(10)) == 3

    restarted = _wire(uow_factory, tmp_path, {**overrides, "mailer": InMemoryMailer()})
    await restarted.start()  # the support module's start-up hook indexes them
    try:
        async with restarted.infra.uow() as uow:
            assert await uow.support_tickets.list_unindexed(10) == []
        await restarted.support.address_requests.submit("access", "old1@example.com")
        shown = await restarted.support.address_requests.confirm(_link_token(restarted, "old1@example.com"))
        assert [v.ticket.id for v in shown.tickets] == [old[1]]
    finally:
        await restarted.aclose()
