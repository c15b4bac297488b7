"""Billing routes: balance, ledger, packs, checkout, the processor's webhook, and the sandbox's hosted page."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from dreamina.adapters.logs import get_logger
from dreamina.adapters.payments import events
from dreamina.adapters.payments.sandbox import LocalPaymentSandbox
from dreamina.domain.billing.clawbacks import Outcome
from dreamina.domain.billing.errors import (
    EventNotReady,
    InsufficientCredits,
    InvalidEvent,
    InvalidSignature,
    PaymentProcessorUnavailable,
    UnknownPack,
)
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.errors import NotFound
from dreamina.domain.privacy.idempotency import KeptAnswers
from dreamina.entrypoints.http.auth import AUTH, SECURED
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.idempotency import IdempotencyKeyHeader, answered_once
from dreamina.ports.billing import EntryKind
from dreamina.wiring.billing import BillingModule

log = get_logger("dreamina.billing")

_SESSION_ID = re.compile(r"^cs_test_[A-Za-z0-9]{24}$")
SUCCEEDS, FAILS = events.SEPA_TEST_IBANS
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


class Balance(msgspec.Struct):
    credits: int


class LedgerEntryBody(msgspec.Struct):
    id: UUID
    kind: EntryKind
    amount: int
    reference: str | None
    created_at: datetime


class LedgerBody(msgspec.Struct):
    entries: list[LedgerEntryBody]
    next_cursor: str | None


class PackBody(msgspec.Struct):
    id: str
    name: str
    credits: int
    amount: int
    currency: str


class PricesBody(msgspec.Struct):
    image_per_output: int
    video_per_second: int


class PacksBody(msgspec.Struct):
    packs: list[PackBody]
    generation_prices: PricesBody


class CheckoutBody(msgspec.Struct, forbid_unknown_fields=True):
    pack_id: Annotated[str, msgspec.Meta(max_length=40)]


class CheckoutStarted(msgspec.Struct):
    checkout_url: str
    session_id: str
    expires_at: datetime


class WebhookReceived(msgspec.Struct):
    received: bool
    outcome: Outcome


class BillingController(Controller):
    path = "/v1/billing"
    tags = ["billing"]

    @get("/balance", dependencies=AUTH, security=SECURED, summary="Your credit balance (sum of your ledger)")
    async def balance(self, principal: NamedDependency[Principal], billing: NamedDependency[BillingModule]) -> Balance:
        return Balance(credits=await billing.credits.balance(principal.account_id))

    @get("/ledger", dependencies=AUTH, security=SECURED, summary="Your credit ledger, newest first")
    async def ledger(
        self,
        principal: NamedDependency[Principal],
        billing: NamedDependency[BillingModule],
        cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=100)] = 20,
    ) -> LedgerBody:
        page = await billing.credits.ledger(principal.account_id, cursor=cursor, limit=limit)
        return LedgerBody(
            entries=[
                LedgerEntryBody(id=e.id, kind=e.kind, amount=e.amount, reference=e.reference, created_at=e.created_at)
                for e in page.entries
            ],
            next_cursor=page.next_cursor,
        )

    @get("/packs", summary="Credit packs for sale, and what generations cost")
    async def packs(self, billing: NamedDependency[BillingModule]) -> PacksBody:
        billing = billing
        return PacksBody(
            packs=[PackBody(p.id, p.name, p.credits, p.amount, p.currency) for p in billing.catalogue.packs()],
            generation_prices=PricesBody(billing.prices.image_per_output, billing.prices.video_per_second),
        )

    @post(
        "/checkout",
        status_code=HTTP_201_CREATED,
        dependencies=AUTH,
        security=SECURED,
        summary="Start a hosted checkout for a pack; pay on the returned URL",
    )
    async def checkout(
        self,
        data: JSONBody[CheckoutBody],
        principal: NamedDependency[Principal],
        billing: NamedDependency[BillingModule],
        kept_answers: NamedDependency[KeptAnswers],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[CheckoutStarted]:
        """With an ``Idempotency-Key``, a retry gets the same checkout session back."""
        return await answered_once(
            kept_answers,
            subject_id=principal.account_id,
            route="POST /v1/billing/checkout",
            key=idempotency_key,
            request=msgspec.json.encode(data),
            status=HTTP_201_CREATED,
            render=lambda h: CheckoutStarted(checkout_url=h.url, session_id=h.session_id, expires_at=h.expires_at),
            effect=lambda answer: billing.checkout.start(principal.account_id, data.pack_id, answer=answer),
        )

    @post("/webhooks/stripe", status_code=200, summary="The payment processor's signed events")
    async def webhook(
        self, request: Request[Any, Any, Any], billing: NamedDependency[BillingModule]
    ) -> WebhookReceived:
        """Bad or missing ``Stripe-Signature``: 400 and nothing changes. Each event id is handled once."""
        payload = await request.body()
        outcome = await billing.events.receive(payload, request.headers.get("stripe-signature"))
        log.info("payment_event_handled", outcome=outcome.value)
        return WebhookReceived(received=True, outcome=outcome)

    @get("/checkout/return", summary="Where the hosted checkout sends the buyer back", media_type=MediaType.HTML)
    async def checkout_return(
        self, outcome: Annotated[str, QueryParameter(name="outcome", max_length=20)] = "success"
    ) -> Response[str]:
        text = (
            "Payment received. Your credits appear in GET /v1/billing/balance as soon as the payment is confirmed."
            if outcome == "success"
            else "Checkout cancelled. Nothing was charged."
        )
        return _page("Dreamina checkout", f"<p>{html.escape(text)}</p>")


class SandboxController(Controller):
    """The local payment sandbox's hosted page (embedded profile only)."""

    path = "/v1/billing/sandbox/checkout"
    tags = ["billing"]
    include_in_schema = False

    @get("/{session_id:str}", media_type=MediaType.HTML)
    async def page(self, session_id: FromPath[str], billing: NamedDependency[BillingModule]) -> Response[str]:
        sandbox = _sandbox(billing, session_id)
        description, amount, currency, status = await sandbox.describe(session_id)
        if status != "open":
            return _page("Checkout closed", f"<p>This checkout is {html.escape(status)}.</p>", status_code=410)
        price = f"{amount / 100:.2f} {currency.upper()}"
        body = f"""
<h1>Sandbox checkout</h1>
<p><strong>{html.escape(description)}</strong> &mdash; {html.escape(price)}</p>
<p>This is the local payment sandbox: no money moves. Pay with the test card <code>4242 4242 4242 4242</code>
(any future expiry, any 3-digit CVC); <code>4000 0000 0000 0002</code> is declined. What you type is not stored.</p>
<form method="post" autocomplete="off">
  <label>Card number <input name="number" inputmode="numeric" maxlength="23" required></label><br>
  <label>Expiry month <input name="exp_month" inputmode="numeric" maxlength="2" size="2" required></label>
  <label>year <input name="exp_year" inputmode="numeric" maxlength="4" size="4" required></label><br>
  <label>CVC <input name="cvc" inputmode="numeric" maxlength="4" size="4" required></label><br>
  <button type="submit">Pay {html.escape(price)}</button>
</form>
<p>Or a delayed method, a SEPA debit the sandbox's bank answers at once: IBAN <code>{SUCCEEDS}</code> is paid,
<code>{FAILS}</code> fails (the credits arrive only with the bank's confirmation).</p>
<form method="post" autocomplete="off">
  <label>IBAN <input name="iban" maxlength="34" required></label>
  <button type="submit">Debit {html.escape(price)}</button>
</form>"""
        return _page("Sandbox checkout", body)

    @post("/{session_id:str}", media_type=MediaType.HTML, status_code=200)
    async def pay(
        self, session_id: FromPath[str], request: Request[Any, Any, Any], billing: NamedDependency[BillingModule]
    ) -> Response[str]:
        sandbox = _sandbox(billing, session_id)
        form = await request.form()

        def field(name: str) -> str:
            value = form.get(name)
            return value[:32] if isinstance(value, str) else ""

        iban = field("iban").replace(" ", "").upper()
        if iban:
            attempt = await sandbox.debit(session_id, iban)
        else:
            attempt = await sandbox.pay(
                session_id, field("number"), field("exp_month"), field("exp_year"), field("cvc")
            )
        log.info("sandbox_payment_attempt", status=attempt.status)
        link = f'<p><a href="{html.escape(attempt.return_url)}">Back to Dreamina</a></p>' if attempt.return_url else ""
        retry = "" if attempt.status == "succeeded" else '<p><a href="">Try again</a></p>'
        status_code = {"succeeded": 200, "declined": 402, "invalid": 422}[attempt.status]
        return _page(
            "Sandbox checkout",
            f"<h1>{html.escape(attempt.status.capitalize())}</h1><p>{html.escape(attempt.message)}</p>{link}{retry}",
            status_code=status_code,
        )


def _sandbox(billing: BillingModule, session_id: str) -> LocalPaymentSandbox:
    processor = billing.processor
    if not isinstance(processor, LocalPaymentSandbox) or not _SESSION_ID.match(session_id):
        raise NotFound("no sandbox checkout has this id")
    return processor


def _page(title: str, body: str, *, status_code: int = 200) -> Response[str]:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        "<style>body{font-family:sans-serif;max-width:36rem;margin:2rem auto}input{margin:.3rem 0}</style>"
        f"</head><body>{body}</body></html>"
    )
    return Response(
        document,
        media_type=MediaType.HTML,
        status_code=status_code,
        headers={"content-security-policy": PAGE_POLICY, "cache-control": "no-store"},
    )


FACE = HttpFace(
    routes=[BillingController, SandboxController],
    problems={
        InsufficientCredits: 402,
        UnknownPack: 404,
        InvalidSignature: 400,
        InvalidEvent: 400,
        EventNotReady: 409,
        PaymentProcessorUnavailable: 502,
    },
    dependencies={"billing": lambda c: c.billing},
)
