"""The one composition root: settings -> wired adapters -> use cases. Nothing is built at import time.

Tests call :func:`build_container` with overrides (a movable clock, in-memory fakes, a database of their own);
the API process and the CLI call it with settings alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from dreamina.domain.billing.catalogue import Catalogue, GenerationPrices, parse_packs
from dreamina.domain.billing.checkout import Checkout
from dreamina.domain.billing.credits import Credits
from dreamina.domain.billing.events import PaymentEvents
from dreamina.domain.billing.records import BillingRecords
from dreamina.domain.consent.policy_versions import INITIAL_LAST_UPDATED, INITIAL_VERSION, PolicyCatalogue
from dreamina.domain.identity.accounts import Accounts, IdentityRules
from dreamina.domain.privacy.datamap import DATA_MAP, DataMap
from dreamina.domain.privacy.jurisdictions import JurisdictionTable, load_jurisdictions
from dreamina.ports.charges import GenerationCharges
from dreamina.ports.clock import Clock
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import Mailer
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.payments import PaymentProcessor
from dreamina.ports.security import AttemptCounter, PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import Settings

INITIAL_EFFECTIVE_AT = datetime(2026, 5, 1, tzinfo=UTC)


def shipped_policy_text() -> str:
    """The policy the company ships as version 1 (a copy of shared/policy/privacy-policy.txt)."""
    return resources.files("dreamina.data").joinpath("privacy-policy-v1.txt").read_text(encoding="utf-8")


@dataclass
class Billing:
    """The billing module's use cases and the processor they talk to."""

    processor: PaymentProcessor
    catalogue: Catalogue
    prices: GenerationPrices
    credits: Credits
    checkout: Checkout
    events: PaymentEvents
    records: BillingRecords
    charges: GenerationCharges  # what the generation module is given (reserve / capture / release)


@dataclass
class Container:
    """Everything the interfaces (HTTP, CLI, workers) need, wired once."""

    settings: Settings
    clock: Clock
    uow: UnitOfWorkFactory
    vault: KeyVault
    mailer: Mailer
    object_store: ObjectStore
    attempts: AttemptCounter
    passwords: PasswordHasher
    jurisdictions: JurisdictionTable
    data_map: DataMap
    accounts: Accounts
    policies: PolicyCatalogue
    database_ping: Callable[[], Awaitable[bool]]
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    billing: Billing | None = None

    async def start(self) -> None:
        """Idempotent start-up work: publish the shipped policy as version 1 if it is not there yet."""
        await self.policies.ensure_published(
            version=INITIAL_VERSION,
            text=shipped_policy_text(),
            last_updated=INITIAL_LAST_UPDATED,
            effective_at=INITIAL_EFFECTIVE_AT,
        )

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def _vault(settings: Settings) -> KeyVault:
    from dreamina.adapters.crypto import EnvKeyVault, LocalFileKeyVault

    if settings.master_key:
        return EnvKeyVault(settings.master_key)
    return LocalFileKeyVault(settings.resolved_master_key_file)


def _object_store(settings: Settings, vault_secret: bytes) -> ObjectStore:
    from dreamina.adapters.object_store import LocalObjectStore, S3ObjectStore

    if settings.object_store == "s3":
        return S3ObjectStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id or None,
            secret_access_key=settings.s3_secret_access_key or None,
        )
    return LocalObjectStore(
        settings.resolved_object_store_path,
        url_signing_key=vault_secret,
        base_url=settings.resolved_public_base_url + "/v1/objects/",
    )


def build_container(settings: Settings, **overrides: Any) -> Container:
    """Wire the adapters the settings name; any keyword overrides the adapter of the same name."""
    from dreamina.adapters.clock import SystemClock
    from dreamina.adapters.crypto import AesGcmCipher
    from dreamina.adapters.passwords import Argon2PasswordHasher

    closers: list[Callable[[], Awaitable[None]]] = []
    clock: Clock = overrides.get("clock") or SystemClock()
    vault: KeyVault = overrides.get("vault") or _vault(settings)
    # A key for signing object URLs, derived from the vault so no extra secret is needed.
    url_key = bytes.fromhex(vault.blind_index("object-url-signing", "v1"))

    uow = overrides.get("uow")
    database_ping = overrides.get("database_ping")
    if uow is None:
        from dreamina.adapters.sql.database import Database

        database = Database(settings.resolved_database_url)
        uow = database.unit_of_work
        database_ping = database.ping
        closers.append(database.dispose)
    if database_ping is None:

        async def database_ping() -> bool:
            return True

    mailer: Mailer | None = overrides.get("mailer")
    if mailer is None:
        from dreamina.adapters.mail.outbox import OutboxMailer

        mailer = OutboxMailer(settings.resolved_mail_outbox, sender=settings.mail_from)

    attempts: AttemptCounter | None = overrides.get("attempts")
    if attempts is None:
        if settings.redis_url:
            from dreamina.adapters.redis_throttle import RedisAttemptCounter

            redis_attempts = RedisAttemptCounter(settings.redis_url)
            closers.append(redis_attempts.aclose)
            attempts = redis_attempts
        else:
            from dreamina.adapters.memory.throttle import InMemoryAttemptCounter

            attempts = InMemoryAttemptCounter(clock)

    passwords: PasswordHasher = overrides.get("passwords") or Argon2PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
    )
    object_store: ObjectStore = overrides.get("object_store") or _object_store(settings, url_key)
    jurisdictions = load_jurisdictions()
    cipher = AesGcmCipher()
    accounts = Accounts(
        uow=uow,
        vault=vault,
        cipher=cipher,
        passwords=passwords,
        mailer=mailer,
        clock=clock,
        attempts=attempts,
        jurisdictions=jurisdictions,
        rules=IdentityRules(
            token_ttl=timedelta(seconds=settings.token_ttl_seconds),
            login_max_failures=settings.login_max_failures,
            login_window_seconds=settings.login_window_seconds,
        ),
    )
    container = Container(
        settings=settings,
        clock=clock,
        uow=uow,
        vault=vault,
        mailer=mailer,
        object_store=object_store,
        attempts=attempts,
        passwords=passwords,
        jurisdictions=jurisdictions,
        data_map=DATA_MAP,
        accounts=accounts,
        policies=PolicyCatalogue(uow, clock),
        database_ping=database_ping,
        closers=closers,
    )
    container.billing = _billing(settings, container, overrides.get("payment_processor"), cipher)
    return container


def _billing(settings: Settings, c: Container, processor: PaymentProcessor | None, cipher: Any) -> Billing:
    base = settings.resolved_public_base_url
    if processor is None:
        if settings.payments == "stripe":
            from dreamina.adapters.payments.stripe_processor import StripePaymentProcessor

            stripe_processor = StripePaymentProcessor(
                secret_key=settings.stripe_secret_key,
                webhook_secret=settings.stripe_webhook_secret,
                clock=c.clock,
                tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
                api_base=settings.stripe_api_base or None,
            )
            c.closers.append(stripe_processor.aclose)
            processor = stripe_processor
        else:
            from dreamina.adapters.payments.sandbox import LocalPaymentSandbox

            processor = LocalPaymentSandbox(
                # The sandbox signs its events like Stripe does; without a configured secret it derives one.
                secret=settings.stripe_webhook_secret or c.vault.blind_index("sandbox-webhook-secret", "v1"),
                clock=c.clock,
                checkout_base_url=base + "/v1/billing/sandbox/checkout",
                tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
            )
    catalogue = Catalogue(parse_packs(settings.billing_packs))
    events = PaymentEvents(
        uow=c.uow,
        clock=c.clock,
        processor=processor,
        record_retention=timedelta(days=settings.billing_record_retention_days),
    )
    sink_owner: Any = processor
    if hasattr(sink_owner, "sink") and sink_owner.sink is None:
        sink_owner.sink = events.receive  # the sandbox delivers its signed events to the same handler
    from dreamina.adapters.generation_charges import LedgerGenerationCharges

    credits = Credits(uow=c.uow, clock=c.clock, welcome_credits=settings.billing_welcome_credits)
    return Billing(
        processor=processor,
        catalogue=catalogue,
        prices=GenerationPrices(
            image_per_output=settings.billing_image_cost, video_per_second=settings.billing_video_cost_per_second
        ),
        credits=credits,
        checkout=Checkout(
            uow=c.uow,
            clock=c.clock,
            processor=processor,
            catalogue=catalogue,
            vault=c.vault,
            cipher=cipher,
            success_url=base + "/v1/billing/checkout/return?outcome=success",
            cancel_url=base + "/v1/billing/checkout/return?outcome=cancelled",
        ),
        events=events,
        records=BillingRecords(uow=c.uow, clock=c.clock, processor=processor),
        charges=LedgerGenerationCharges(credits),
    )
