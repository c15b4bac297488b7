"""Outbound data-subject-request notifications (issue 16 finding 12), on every backend: each processor that received
an erased subject's data is told by its deletion API (Runway's emulation), a signed webhook (a loopback receiver
that verifies the signature) or an email to its privacy contact (the mail outbox); failures back off and recover or
are given up, and staff see what is open or given up."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.images import PillowMediaRenderer
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.providers.offline import OfflineRendererProvider
from dreamina.adapters.providers.runway import RunwayProvider
from dreamina.bootstrap import Container, build_container
from dreamina.domain.data_rights.processor_notices import NoticeRules
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.generation import GenerationKind
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import SettingsError, load_settings
from tests.http_client import AsyncTestClient

from ..contract.stripe_emulator import StripeEmulator
from ..contract.vendor_emulators import TOKEN, RunwayEmulator
from ..unit.test_settings import PRODUCTION
from . import test_billing_stripe_profile as stripe_profile
from .conftest import UNTHROTTLED, app_for, test_overrides
from .dsr_receiver import SECRET, Receiver
from .helpers import PASSWORD, signed_in, verify_by_mail

CONTACT = "privacy@openai-processor.example.com"


class FlakyRunway(RunwayEmulator):
    """Runway's emulation that answers 503 to the next ``down`` requests (``down=-1``: for ever)."""

    def __init__(self, down: int) -> None:
        super().__init__()
        self.down = down

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down != 0:
            self.down -= 1 if self.down > 0 else 0
            self.requests.append(request)
            return httpx.Response(503, json={"error": "unavailable"})
        return super().handle(request)


@pytest.fixture
def overrides() -> dict[str, Any]:
    return test_overrides()


@pytest.fixture
def receiver(overrides: dict[str, Any]) -> Iterator[Receiver]:
    served = Receiver(overrides["clock"])
    yield served
    served.close()


@pytest.fixture
async def wired(
    uow_factory: UnitOfWorkFactory, tmp_path: Path, overrides: dict[str, Any], receiver: Receiver
) -> AsyncIterator[Callable[..., Container]]:
    built: list[Container] = []

    def make(runway: RunwayEmulator, **env: str) -> Container:
        routes = {"replicate": {"webhook": receiver.url, "secret": SECRET}, "openai": {"email": CONTACT}}
        settings = load_settings(
            {"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_PROCESSOR_ROUTES": json.dumps(routes), **UNTHROTTLED, **env}
        )
        offline = OfflineRendererProvider(PillowMediaRenderer())
        providers = {
            GenerationKind.IMAGE: offline,
            GenerationKind.VIDEO: RunwayProvider(TOKEN, transport=runway.transport, poll_seconds=0),
        }
        container = build_container(settings, uow=uow_factory, **{**overrides, "providers": providers})
        built.append(container)
        return container

    yield make
    for container in built:
        await container.aclose()


async def _subject_known_to(container: Container, email: str, task: str) -> UUID:
    """A subject whose data went to Runway (task ``task``), Replicate and OpenAI (as the ledger records)."""
    await container.start()
    await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 4, 1), "DE", None, 1, "Ada"))
    await verify_by_mail(container, email)
    token = await container.identity.sessions.issue_token(email, PASSWORD)
    subject = (await container.identity.sessions.authenticate(token.access_token)).account_id
    async with container.infra.uow() as uow:
        for processor, reference in (("runway", task), ("replicate", "pred-7"), ("openai", None)):
            now = container.infra.clock.now()
            await uow.disclosures.record(
                Disclosure(uuid.uuid4(), subject, processor, ("content",), "generation", reference, now)
            )
        await uow.commit()
    return subject


async def _erase(container: Container, subject: UUID) -> UUID:
    request = await container.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD)
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(days=30, seconds=1))
    return request.id


async def test_every_processor_is_told_by_its_route_and_the_record_says_how(
    wired: Callable[..., Container], receiver: Receiver
) -> None:
    runway = RunwayEmulator()
    runway.jobs["runway-task-1"] = {"polls": 0, "refuse": False}
    container = wired(runway)
    email = "told@example.com"
    subject = await _subject_known_to(container, email, "runway-task-1")
    request_id = await _erase(container, subject)
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    # Runway: its deletion call
    assert "runway-task-1" not in runway.jobs
    # Replicate: one signed webhook carrying only its own reference and the key
    [(headers, body, signed)] = receiver.received
    assert signed
    told = json.loads(body)
    assert told["references"] == ["pred-7"] and told["type"] == "erasure_request"
    assert headers["Idempotency-Key"] == told["id"]
    assert email not in body.decode() and str(subject) not in body.decode()
    # OpenAI: a message to its privacy contact, without the subject's address
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    [message] = mailer.sent_to(CONTACT)
    assert (
        message.kind == "processor_erasure_request" and email not in message.body and str(subject) not in message.body
    )
    # the erasure record: per processor how, when, what, how many attempts
    assert await container.data_rights.processor_notices.staff_list() == []  # nothing open or given up
    notices = await container.data_rights.processor_notices.for_request(request_id)
    async with container.infra.uow() as uow:
        completion = await uow.erasure_completions.get(notices[0].completion_id)
    assert completion is not None
    record = {
        p["processor"]: (p["method"], p["status"], p["outcome"], p["attempts"])
        for p in completion.outcome["processors"]
    }
    assert record == {
        "runway": ("api", "done", "deleted", 1),
        "replicate": ("webhook", "done", "acknowledged", 1),
        "openai": ("email", "done", "queued", 1),
    }
    assert all(p["at"] for p in completion.outcome["processors"])


async def _notice(container: Container, request_id: UUID, processor: str) -> Any:
    [found] = [
        n for n in await container.data_rights.processor_notices.for_request(request_id) if n.processor == processor
    ]
    return found


async def test_a_failing_vendor_is_retried_with_growing_backoff_until_it_recovers(
    wired: Callable[..., Container], receiver: Receiver
) -> None:
    runway = FlakyRunway(down=3)
    runway.jobs["runway-task-2"] = {"polls": 0, "refuse": False}
    receiver.status = 503  # the webhook endpoint fails too, then recovers
    container = wired(runway)
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    request_id = await _erase(container, await _subject_known_to(container, "flaky@example.com", "runway-task-2"))
    waits = []
    for attempt in range(1, 4):
        assert (await container.data_rights.jobs.run_due())["pending"] == 1
        notice = await _notice(container, request_id, "runway")
        assert (notice.status, notice.attempts, notice.last_error) == ("open", attempt, "ProviderUnavailable")
        waits.append(notice.next_attempt_at - clock.now())
        assert (await container.data_rights.jobs.run_due())["pending"] == 0  # nothing due before the back-off
        if attempt == 2:
            receiver.status = 200
        clock.advance(waits[-1])
    # exponential with jitter: each wait is within [half, all] of 1, 2, 4 minutes
    for n, wait in enumerate(waits):
        ceiling = timedelta(minutes=1 << n)
        assert ceiling / 2 <= wait <= ceiling
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    runway_notice = await _notice(container, request_id, "runway")
    assert (runway_notice.status, runway_notice.outcome, runway_notice.attempts) == ("done", "deleted", 4)
    hook = await _notice(container, request_id, "replicate")
    assert (hook.status, hook.outcome) == ("done", "acknowledged")
    # every attempt carried the same idempotency key
    assert len({h["Idempotency-Key"] for h, _, _ in receiver.received}) == 1 and len(receiver.received) >= 2


async def test_a_vendor_that_never_recovers_is_given_up_and_staff_see_it(
    wired: Callable[..., Container], receiver: Receiver
) -> None:
    runway = FlakyRunway(down=-1)
    container = wired(runway, DREAMINA_PROCESSOR_NOTICE_MAX_ATTEMPTS="3")
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    request_id = await _erase(container, await _subject_known_to(container, "gone@example.com", "runway-task-3"))
    for _ in range(3):
        await container.data_rights.jobs.run_due()
        clock.advance(timedelta(hours=1))
    notice = await _notice(container, request_id, "runway")
    assert (notice.status, notice.outcome, notice.attempts) == ("given_up", "gave_up", 3)
    assert len(runway.requests) == 3
    async with container.infra.uow() as uow:
        assert await uow.privacy_jobs.get(request_id) is None  # the erasure itself finished
    # staff: the privacy officer's list shows it; a user and support staff are refused
    async with AsyncTestClient(app=app_for(container)) as client:
        officer = await signed_in(client, "officer.staff@example.com")
        await container.identity.staff.grant("officer.staff@example.com", "privacy_officer")
        answer = await client.get("/v1/admin/privacy/processor-notifications?status=given_up", headers=officer)
        assert answer.status_code == 200
        [listed] = answer.json()["notifications"]
        assert (listed["processor"], listed["status"], listed["attempts"]) == ("runway", "given_up", 3)
        assert listed["request_id"] == str(request_id)
        bad = await client.get("/v1/admin/privacy/processor-notifications?status=done", headers=officer)
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
        user = await signed_in(client, "user@example.com")
        assert (await client.get("/v1/admin/privacy/processor-notifications", headers=user)).status_code == 403


async def test_the_request_detail_shows_open_notifications(wired: Callable[..., Container]) -> None:
    runway = FlakyRunway(down=-1)
    container = wired(runway)
    subject = await _subject_known_to(container, "detail@example.com", "runway-task-4")
    request_id = await _erase(container, subject)
    await container.data_rights.jobs.run_due()
    view = await container.data_rights.requests.view(subject, request_id)
    told = {n.processor: n.status for n in view.processor_notifications}
    assert told == {"runway": "open", "replicate": "done", "openai": "done"}


def test_backoff_is_exponential_jittered_and_capped() -> None:
    rules = NoticeRules(first_retry=timedelta(seconds=60), longest_retry=timedelta(hours=6))
    rng = random.Random(7)
    for attempts in range(1, 30):
        ceiling = min(timedelta(seconds=60 * 2 ** (attempts - 1)), timedelta(hours=6))
        for _ in range(20):
            assert ceiling / 2 <= rules.retry_after(attempts, rng) <= ceiling
    assert len({rules.retry_after(3, rng) for _ in range(10)}) > 1  # jittered


@pytest.mark.parametrize(
    "routes",
    [
        "[1]",
        '{"openai": {"email": "not an address"}}',
        '{"openai": {"webhook": "ftp://x.example/h", "secret": "' + SECRET + '"}}',
        '{"openai": {"webhook": "https://x.example/h", "secret": "short"}}',
        '{"openai": {"email": "a@b.example.com", "webhook": "https://x.example/h"}}',
    ],
)
def test_malformed_routes_are_refused_without_echoing_secrets(routes: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"DREAMINA_PROCESSOR_ROUTES": routes})
    assert "DREAMINA_PROCESSOR_ROUTES" in str(refused.value) and SECRET not in str(refused.value)


def test_production_refuses_an_image_provider_nobody_can_tell_of_an_erasure() -> None:
    env = {**PRODUCTION, "DREAMINA_IMAGE_PROVIDER": "openai", "DREAMINA_OPENAI_API_KEY": "sk-test"}
    with pytest.raises(SettingsError, match=r"DREAMINA_PROCESSOR_ROUTES entry .* for openai"):
        load_settings(env)
    routed = load_settings({**env, "DREAMINA_PROCESSOR_ROUTES": json.dumps({"openai": {"email": CONTACT}})})
    assert "openai" in routed.processor_routes
    load_settings({**PRODUCTION, "DREAMINA_VIDEO_PROVIDER": "runway", "DREAMINA_RUNWAY_API_KEY": "k"})  # has an API
    embedded = {"DREAMINA_IMAGE_PROVIDER": "openai", "DREAMINA_OPENAI_API_KEY": "sk-test"}
    assert load_settings(embedded).processor_routes == ""  # embedded: given up at once instead, for staff to see


stripe_app = stripe_profile.stripe_app  # Stripe's loopback emulation behind the production payment wiring


async def test_stripe_is_asked_through_its_deletion_api_and_the_outcome_recorded(
    stripe_app: tuple[AsyncTestClient, Container, StripeEmulator],
) -> None:
    client, container, emulator = stripe_app
    auth = await signed_in(client, "stripe.erased@example.com")
    assert (await client.post("/v1/billing/checkout", json={"pack_id": "starter"}, headers=auth)).status_code == 201
    assert len(emulator.customers) == 1
    subject = UUID((await client.get("/v1/me", headers=auth)).json()["id"])
    request_id = await _erase(container, subject)
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    assert emulator.customers == {}
    notice = await _notice(container, request_id, "stripe")
    # the billing holder deleted the customer a step earlier; the notification's call confirms it is gone
    assert (notice.method, notice.status, notice.outcome, notice.attempts) == ("api", "done", "already_deleted", 1)
