"""Wiring unit of the billing module: credits, checkout, processor events, payment records (legal hold)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from dreamina.adapters.memory import billing as memory_billing
from dreamina.adapters.memory import sandbox as memory_sandbox
from dreamina.adapters.sql import repositories_billing, repositories_sandbox
from dreamina.domain.billing.catalogue import Catalogue, GenerationPrices, parse_packs
from dreamina.domain.billing.checkout import Checkout
from dreamina.domain.billing.credits import Credits
from dreamina.domain.billing.data_map import BILLING_DATA
from dreamina.domain.billing.events import PaymentEvents
from dreamina.domain.billing.notices import PaymentNotices
from dreamina.domain.billing.personal_data import BillingPersonalData
from dreamina.domain.billing.records import BillingRecords
from dreamina.domain.billing.retention import (
    ExpiredCheckoutSessions,
    ExpiredPaymentRecords,
    ExpiredSandboxSessions,
    ForgottenPaymentEvents,
)
from dreamina.ports.billing import BillingStores
from dreamina.ports.data_rights import ProcessorEraser
from dreamina.ports.generation import GenerationCharges, GenerationKind
from dreamina.ports.payments import PaymentProcessor
from dreamina.settings import Settings
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, Hook, ModuleParts

PARTS = ModuleParts(
    name="billing",
    data=BILLING_DATA,
    sql={**repositories_billing.REPOSITORIES, **repositories_sandbox.REPOSITORIES},
    memory=(memory_billing.STORES, memory_sandbox.STORES),
)


@dataclass(frozen=True, slots=True)
class BillingModule:
    """The billing module's use cases and the processor they talk to."""

    processor: PaymentProcessor
    catalogue: Catalogue
    prices: GenerationPrices
    credits: Credits
    checkout: Checkout
    events: PaymentEvents
    records: BillingRecords
    charges: GenerationCharges  # what the generation module is given (reserve / capture / release)
    contributes: Contributions


class LedgerGenerationCharges:
    """:class:`~dreamina.ports.generation.GenerationCharges` over :class:`~dreamina.domain.billing.credits.Credits`:
    the price comes from configuration (per image, per second of video); reserve raises ``InsufficientCredits``
    (402); all three are idempotent and write exactly once."""

    def __init__(self, credits: Credits, prices: GenerationPrices) -> None:
        self._credits = credits
        self._prices = prices

    async def reserve(
        self, uow: BillingStores, subject_id: UUID, generation_id: UUID, kind: GenerationKind, units: int
    ) -> None:
        cost = self._prices.cost(kind.value, outputs=units, seconds=units)
        await self._credits.reserve_in(uow, subject_id, generation_id, cost)

    async def capture(self, generation_id: UUID) -> None:
        await self._credits.capture(generation_id)

    async def release(self, generation_id: UUID) -> None:
        await self._credits.release(generation_id)


def wire_billing(infra: Infrastructure, overrides: Mapping[str, Any]) -> BillingModule:
    settings = infra.settings
    base = settings.resolved_public_base_url
    closers: list[Hook] = []
    processor: PaymentProcessor = overrides.get("payment_processor") or _processor(infra, closers)
    catalogue = Catalogue(parse_packs(settings.billing_packs))
    record_retention = timedelta(days=settings.billing_record_retention_days)
    events = PaymentEvents(
        uow=infra.uow,
        clock=infra.clock,
        processor=processor,
        record_retention=record_retention,
        notices=PaymentNotices(mail=infra.mail, keyrings=infra.keyrings),
    )
    sink_owner: Any = processor
    if hasattr(sink_owner, "sink") and sink_owner.sink is None:
        sink_owner.sink = events.receive  # the sandbox delivers its signed events to the same handler
    credits = Credits(uow=infra.uow, clock=infra.clock, welcome_credits=settings.billing_welcome_credits)
    prices = GenerationPrices(
        image_per_output=settings.billing_image_cost, video_per_second=settings.billing_video_cost_per_second
    )
    records = BillingRecords(uow=infra.uow, clock=infra.clock, processor=processor)
    return BillingModule(
        processor=processor,
        catalogue=catalogue,
        prices=prices,
        credits=credits,
        checkout=Checkout(
            uow=infra.uow,
            clock=infra.clock,
            processor=processor,
            catalogue=catalogue,
            keyrings=infra.keyrings,
            success_url=base + "/v1/billing/checkout/return?outcome=success",
            cancel_url=base + "/v1/billing/checkout/return?outcome=cancelled",
        ),
        events=events,
        records=records,
        charges=LedgerGenerationCharges(credits, prices),
        contributes=Contributions(
            holders=(BillingPersonalData(uow=infra.uow, records=records),),
            retention=(
                ExpiredPaymentRecords(infra.uow),
                ForgottenPaymentEvents(infra.uow),
                ExpiredCheckoutSessions(infra.uow, record_retention),
                ExpiredSandboxSessions(infra.uow),
            ),
            closers=tuple(closers),
        ),
    )


def _processor(infra: Infrastructure, closers: list[Hook]) -> PaymentProcessor:
    settings: Settings = infra.settings
    if settings.payments == "stripe":
        from dreamina.adapters.payments.stripe_processor import StripePaymentProcessor

        stripe_processor = StripePaymentProcessor(
            secret_key=settings.stripe_secret_key,
            webhook_secret=settings.stripe_webhook_secret,
            clock=infra.clock,
            tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
            api_base=settings.stripe_api_base or None,
        )
        closers.append(stripe_processor.aclose)
        return stripe_processor
    from dreamina.adapters.payments.sandbox import LocalPaymentSandbox

    return LocalPaymentSandbox(
        # The sandbox signs its events like Stripe does; without a configured secret it derives one.
        secret=settings.stripe_webhook_secret or infra.vault.blind_index("sandbox-webhook-secret", "v1"),
        clock=infra.clock,
        checkout_base_url=settings.resolved_public_base_url + "/v1/billing/sandbox/checkout",
        tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
        uow=infra.uow,  # its checkout sessions survive a restart
    )


def payment_erasers(processor: PaymentProcessor) -> dict[str, ProcessorEraser]:
    """The payment processor's customer deletion, for the erasure saga's notifications (none for the sandbox, which
    shares nothing)."""
    from dreamina.adapters.provider_erasers import PaymentCustomerEraser

    return {} if processor.processor is None else {processor.processor: PaymentCustomerEraser(processor)}
