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
from dreamina.domain.billing.data_map import BILLING_DATA
from dreamina.domain.billing.events import PaymentEvents
from dreamina.domain.billing.personal_data import BillingPersonalData
from dreamina.domain.billing.records import BillingRecords
from dreamina.domain.billing.retention import ExpiredCheckoutSessions, ExpiredPaymentRecords, ForgottenPaymentEvents
from dreamina.domain.consent.analytics import Analytics
from dreamina.domain.consent.data_map import CONSENT_DATA
from dreamina.domain.consent.personal_data import ConsentPersonalData
from dreamina.domain.consent.policy_changes import PolicyChanges
from dreamina.domain.consent.policy_versions import INITIAL_LAST_UPDATED, INITIAL_VERSION, PolicyCatalogue
from dreamina.domain.consent.preferences import ConsentRegistry, Objections
from dreamina.domain.consent.retention import ExpiredAnalyticsEvents, ExpiredDeviceConsent
from dreamina.domain.data_rights.data_map import DATA_RIGHTS_DATA
from dreamina.domain.data_rights.holders import DataRightsPersonalData, SubjectDataKey, SubjectObjects
from dreamina.domain.data_rights.jobs import DataRightsJobs
from dreamina.domain.data_rights.requests import PrivacyRequests
from dreamina.domain.data_rights.retention import ClosedRequestRecords, ExpiredExportArchives, ExpiredIdentityCodes
from dreamina.domain.generation.data_map import GENERATION_DATA
from dreamina.domain.generation.generations import GenerationRules, Generations
from dreamina.domain.generation.personal_data import GenerationPersonalData
from dreamina.domain.generation.retention import GenerationsPastOwnerRetention, UnusedUploadsPastOwnerRetention
from dreamina.domain.generation.uploads import ReferenceUploads, UploadRules
from dreamina.domain.identity.accounts import Accounts, IdentityRules
from dreamina.domain.identity.child_report_data import CHILD_REPORT_DATA
from dreamina.domain.identity.child_reports import ChildReports
from dreamina.domain.identity.data_map import IDENTITY_DATA
from dreamina.domain.identity.personal_data import IdentityPersonalData
from dreamina.domain.identity.retention import (
    AuditEventsPastLegalPeriod,
    ClosedChildReportContacts,
    ExpiredChildReports,
    ExpiredSessions,
)
from dreamina.domain.identity.staff import StaffDirectory
from dreamina.domain.privacy.datamap import DataMap
from dreamina.domain.privacy.jurisdictions import JurisdictionTable, load_jurisdictions
from dreamina.domain.privacy.kernel_data import KERNEL_DATA
from dreamina.domain.privacy.processors import PROCESSORS
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.domain.support.data_map import SUPPORT_DATA
from dreamina.domain.support.personal_data import SupportPersonalData
from dreamina.domain.support.retention import support_retention_tasks
from dreamina.domain.support.tickets import SupportTickets
from dreamina.ports.clock import Clock
from dreamina.ports.consent import ClientClassifier
from dreamina.ports.data_rights import PersonalDataHolder, ProcessorEraser
from dreamina.ports.generation import GenerationCharges, GenerationKind, JobQueue, ModelProvider
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import Mailer
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.payments import PaymentProcessor
from dreamina.ports.retention import RetentionTask
from dreamina.ports.security import AttemptCounter, PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import Settings

INITIAL_EFFECTIVE_AT = datetime(2026, 5, 1, tzinfo=UTC)


def declared_data_map() -> DataMap:
    """Every module's declaration of what it stores, joined (G1)."""
    return DataMap.compose(
        PROCESSORS,
        (
            IDENTITY_DATA,
            KERNEL_DATA,
            CONSENT_DATA,
            DATA_RIGHTS_DATA,
            CHILD_REPORT_DATA,
            SUPPORT_DATA,
            BILLING_DATA,
            GENERATION_DATA,
        ),
    )


def shipped_policy_text() -> str:
    """The policy the company ships as version 1 (a copy of shared/policy/privacy-policy.txt)."""
    return resources.files("dreamina.data").joinpath("privacy-policy-v1.txt").read_text(encoding="utf-8")


@dataclass
class DataRights:
    """The data-rights module: request engine, jobs, and every module's holder of personal data."""

    requests: PrivacyRequests
    jobs: DataRightsJobs
    holders: tuple[PersonalDataHolder, ...]
    erasers: dict[str, ProcessorEraser]


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
    retention: RetentionSweep
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    consent: ConsentRegistry = field(kw_only=True)
    objections: Objections = field(kw_only=True)
    analytics: Analytics = field(kw_only=True)
    policy_changes: PolicyChanges = field(kw_only=True)
    staff: StaffDirectory = field(kw_only=True)
    data_rights: DataRights | None = None

    @property
    def rights(self) -> DataRights:
        """The data-rights module (always wired by :func:`build_container`)."""
        assert self.data_rights is not None
        return self.data_rights

    uploads: ReferenceUploads | None = None
    generations: Generations | None = None
    job_queue: JobQueue | None = None
    starters: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    billing: Billing | None = None
    child_reports: ChildReports | None = None

    @property
    def children(self) -> ChildReports:
        """The children's flow (always wired by :func:`build_container`)."""
        assert self.child_reports is not None
        return self.child_reports

    support: SupportTickets | None = None

    @property
    def tickets(self) -> SupportTickets:
        """The support module (always wired by :func:`build_container`)."""
        assert self.support is not None
        return self.support

    async def start(self) -> None:
        """Idempotent start-up work: publish the shipped policy as version 1 if it is not there yet."""
        await self.policies.ensure_published(
            version=INITIAL_VERSION,
            text=shipped_policy_text(),
            last_updated=INITIAL_LAST_UPDATED,
            effective_at=INITIAL_EFFECTIVE_AT,
        )
        for begin in self.starters:
            await begin()
        self.starters.clear()

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def _vault(settings: Settings) -> KeyVault:
    from dreamina.adapters.crypto import EnvKeyVault, LocalFileKeyVault

    if settings.master_key:
        return EnvKeyVault(settings.master_key)
    return LocalFileKeyVault(settings.resolved_master_key_file)


def _object_store(settings: Settings, vault_secret: bytes, clock: Clock | None = None) -> ObjectStore:
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
        clock=clock,
    )


def build_container(settings: Settings, **overrides: Any) -> Container:
    """Wire the adapters the settings name; any keyword overrides the adapter of the same name."""
    from dreamina.adapters.child_safety import DataRightsChildErasure, GenerationModuleStopper
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
    if mailer is None and settings.mail_backend == "smtp":
        from dreamina.adapters.mail.smtp import SmtpMailer

        mailer = SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_tls == "tls",
            start_tls=True if settings.smtp_tls == "starttls" else False if settings.smtp_tls == "none" else None,
        )
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
    object_store: ObjectStore = overrides.get("object_store") or _object_store(settings, url_key, clock)
    jurisdictions = load_jurisdictions()
    cipher = AesGcmCipher()
    stopper = GenerationModuleStopper()  # bound below, once the generation module is wired
    accounts = Accounts(
        uow=uow,
        vault=vault,
        cipher=cipher,
        passwords=passwords,
        mailer=mailer,
        clock=clock,
        attempts=attempts,
        jurisdictions=jurisdictions,
        generations=stopper,
        rules=IdentityRules(
            token_ttl=timedelta(seconds=settings.token_ttl_seconds),
            login_max_failures=settings.login_max_failures,
            login_window_seconds=settings.login_window_seconds,
        ),
    )
    policies = PolicyCatalogue(uow, clock)
    consent = ConsentRegistry(uow, vault, clock)
    objections = Objections(uow, clock)
    classifier: ClientClassifier | None = overrides.get("classifier")
    if classifier is None:
        from dreamina.adapters.client_traits import OfflineClientClassifier

        classifier = OfflineClientClassifier()
    billing = _billing(
        settings,
        uow=uow,
        clock=clock,
        vault=vault,
        closers=closers,
        processor=overrides.get("payment_processor"),
        cipher=cipher,
    )
    providers = _providers(settings, overrides)
    erasers: dict[str, ProcessorEraser] = {}
    for provider in {id(p): p for p in providers.values()}.values():
        if provider.capabilities.processor is not None:
            from dreamina.adapters.provider_erasers import ModelProviderEraser

            erasers[provider.capabilities.processor] = ModelProviderEraser(provider)
    erasers.update(overrides.get("processor_erasers") or {})
    data_rights = _data_rights(
        uow=uow,
        vault=vault,
        cipher=cipher,
        passwords=passwords,
        mailer=mailer,
        clock=clock,
        object_store=object_store,
        accounts=accounts,
        jurisdictions=jurisdictions,
        erasers=erasers,
        billing_records=billing.records,
        provider_processors={
            p.name: p.capabilities.processor for p in providers.values() if p.capabilities.processor is not None
        },
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
        data_map=declared_data_map(),
        accounts=accounts,
        policies=policies,
        database_ping=database_ping,
        retention=RetentionSweep(
            [
                ExpiredSessions(uow),
                ExpiredAnalyticsEvents(uow),
                ExpiredPaymentRecords(uow),
                ForgottenPaymentEvents(uow),
                ClosedChildReportContacts(uow),
                ExpiredChildReports(uow),
                *_retention_tasks(settings, uow, object_store),
                *support_retention_tasks(uow),
            ],
            clock,
            batch_size=settings.retention_batch_size,
        ),
        closers=closers,
        consent=consent,
        objections=objections,
        analytics=Analytics(
            uow=uow, consent=consent, objections=objections, classifier=classifier, vault=vault, clock=clock
        ),
        policy_changes=PolicyChanges(
            uow=uow,
            catalogue=policies,
            mailer=mailer,
            vault=vault,
            cipher=cipher,
            clock=clock,
            policy_url=settings.resolved_public_base_url + "/v1/privacy/policy",
        ),
        staff=StaffDirectory(uow, vault, clock),
        data_rights=data_rights,
        billing=billing,
        support=SupportTickets(
            uow=uow, vault=vault, cipher=cipher, mailer=mailer, clock=clock, jurisdictions=jurisdictions
        ),
    )
    _wire_generation(container, settings, cipher, overrides, providers)
    assert container.generations is not None
    stopper.bind(container.generations)
    container.child_reports = ChildReports(
        uow=uow,
        vault=vault,
        cipher=cipher,
        clock=clock,
        mailer=mailer,
        attempts=attempts,
        generations=stopper,
        erasure=DataRightsChildErasure(data_rights.requests),
    )
    container.retention = container.retention.including(
        GenerationsPastOwnerRetention(uow, container.generations),
        UnusedUploadsPastOwnerRetention(uow, container.generations),
    )
    if settings.queue == "in_process" and overrides.get("job_queue") is None:
        from dreamina.adapters.retention_runs import PeriodicSweep

        # embedded profile: no SAQ worker runs the retention cron, so this process sweeps on the same interval
        periodic = PeriodicSweep(container.retention, settings.retention_sweep_minutes * 60.0)
        container.starters.append(periodic.start)
        container.closers.append(periodic.stop)
    return container


def _retention_tasks(settings: Settings, uow: UnitOfWorkFactory, store: ObjectStore) -> list[RetentionTask]:
    """The rest of the retention schedule (``domain/privacy/schedule.py``) each module enforces."""
    return [
        ExpiredDeviceConsent(uow),
        ExpiredIdentityCodes(uow),
        ExpiredExportArchives(uow, store),
        ClosedRequestRecords(uow),
        AuditEventsPastLegalPeriod(uow),
        ExpiredCheckoutSessions(uow, timedelta(days=settings.billing_record_retention_days)),
    ]


def _data_rights(
    *,
    uow: UnitOfWorkFactory,
    vault: KeyVault,
    cipher: Any,
    passwords: PasswordHasher,
    mailer: Mailer,
    clock: Clock,
    object_store: ObjectStore,
    accounts: Accounts,
    jurisdictions: JurisdictionTable,
    erasers: dict[str, ProcessorEraser],
    billing_records: BillingRecords,
    provider_processors: dict[str, str],
) -> DataRights:
    """Wire the request engine, its jobs, and the holders of personal data (each module adds its own here)."""
    from dreamina.adapters.export_zip import ZipExportArchive
    from dreamina.adapters.profile_corrections import IdentityProfileCorrections

    requests = PrivacyRequests(
        uow=uow,
        vault=vault,
        cipher=cipher,
        passwords=passwords,
        mailer=mailer,
        clock=clock,
        jurisdictions=jurisdictions,
        corrections=IdentityProfileCorrections(accounts),
    )
    keyed = {"uow": uow, "vault": vault, "cipher": cipher, "clock": clock}
    # Order matters for erasure: identity pseudonymises the audit trail, so it runs after every holder whose erasure
    # writes audit events (billing audits the processor's customer deletion); the data key goes after every holder
    # that might still read with it; the data-rights holder runs last (the saga's progress lives in its tables).
    holders: tuple[PersonalDataHolder, ...] = (
        GenerationPersonalData(**keyed, processors=provider_processors),
        BillingPersonalData(uow=uow, records=billing_records),
        ConsentPersonalData(uow=uow, vault=vault, clock=clock),
        SupportPersonalData(**keyed),
        IdentityPersonalData(**keyed),
        SubjectObjects(object_store, exported=("uploads/", "outputs/"), not_exported=("exports/",)),
        SubjectDataKey(**keyed),
        DataRightsPersonalData(**keyed),
    )
    jobs = DataRightsJobs(
        uow=uow,
        requests=requests,
        holders=holders,
        archive=ZipExportArchive(object_store),
        erasers=erasers,
        mailer=mailer,
        clock=clock,
    )
    return DataRights(requests=requests, jobs=jobs, holders=holders, erasers=erasers)


def _providers(settings: Settings, overrides: dict[str, Any]) -> dict[GenerationKind, ModelProvider]:
    """The provider configured for each kind; swapping one is configuration only."""
    given: dict[GenerationKind, ModelProvider] | None = overrides.get("providers")
    if given is not None:
        return given
    from dreamina.adapters.images import PillowMediaRenderer
    from dreamina.adapters.providers.offline import OfflineRendererProvider

    offline = OfflineRendererProvider(PillowMediaRenderer())
    providers: dict[GenerationKind, ModelProvider] = {GenerationKind.IMAGE: offline, GenerationKind.VIDEO: offline}
    vendor = _vendor_providers(settings)
    providers.update(vendor)
    return providers


def _vendor_providers(settings: Settings) -> dict[GenerationKind, ModelProvider]:
    chosen: dict[GenerationKind, ModelProvider] = {}
    if settings.image_provider == "openai":
        from dreamina.adapters.providers.openai import OpenAIImagesProvider

        chosen[GenerationKind.IMAGE] = OpenAIImagesProvider(
            api_key=settings.openai_api_key, base_url=settings.openai_base_url, model=settings.openai_image_model
        )
    elif settings.image_provider == "replicate":
        from dreamina.adapters.providers.replicate import ReplicateProvider

        chosen[GenerationKind.IMAGE] = ReplicateProvider(
            api_token=settings.replicate_api_token, base_url=settings.replicate_base_url, model=settings.replicate_model
        )
    if settings.video_provider == "runway":
        from dreamina.adapters.providers.runway import RunwayProvider

        chosen[GenerationKind.VIDEO] = RunwayProvider(
            api_key=settings.runway_api_key, base_url=settings.runway_base_url, model=settings.runway_model
        )
    return chosen


def _wire_generation(
    container: Container,
    settings: Settings,
    cipher: Any,
    overrides: dict[str, Any],
    providers: dict[GenerationKind, ModelProvider],
) -> None:
    from dreamina.adapters.images import PillowImageSanitizer

    charges: GenerationCharges | None = overrides.get("charges")
    if charges is None:
        assert container.billing is not None
        charges = container.billing.charges  # generations are paid from the subject's credit ledger
    queue: JobQueue | None = overrides.get("job_queue")
    in_process = None
    if queue is None:
        if settings.queue == "saq":
            from dreamina.adapters.queue.saq_queue import SaqJobQueue

            saq_queue = SaqJobQueue(settings.redis_url, job_timeout_seconds=settings.generation_job_timeout_seconds)
            container.closers.append(saq_queue.aclose)
            queue = saq_queue
        else:
            from dreamina.adapters.queue.in_process import InProcessJobQueue

            in_process = InProcessJobQueue(concurrency=settings.worker_concurrency)
            queue = in_process
    container.job_queue = queue
    container.uploads = ReferenceUploads(
        uow=container.uow,
        store=container.object_store,
        sanitizer=PillowImageSanitizer(max_pixels=settings.max_upload_pixels),
        clock=container.clock,
        rules=UploadRules(max_bytes=settings.max_upload_bytes),
    )
    for provider in {id(p): p for p in providers.values()}.values():
        close = getattr(provider, "aclose", None)
        if close is not None:
            container.closers.append(close)
    generations = Generations(
        uow=container.uow,
        vault=container.vault,
        cipher=cipher,
        clock=container.clock,
        store=container.object_store,
        providers=providers,
        queue=queue,
        charges=charges,
        rules=GenerationRules(
            max_attempts=settings.generation_max_attempts,
            job_timeout_seconds=float(settings.generation_job_timeout_seconds),
            url_ttl_seconds=settings.signed_url_ttl_seconds,
        ),
    )
    container.generations = generations
    if in_process is not None:
        worker = in_process

        async def start_workers() -> None:
            await worker.start(generations.run)
            await generations.recover()  # jobs that were in flight when the process last stopped

        container.starters.append(start_workers)
        container.closers.append(worker.stop)


def _billing(
    settings: Settings,
    *,
    uow: UnitOfWorkFactory,
    clock: Clock,
    vault: KeyVault,
    closers: list[Callable[[], Awaitable[None]]],
    processor: PaymentProcessor | None,
    cipher: Any,
) -> Billing:
    base = settings.resolved_public_base_url
    if processor is None:
        if settings.payments == "stripe":
            from dreamina.adapters.payments.stripe_processor import StripePaymentProcessor

            stripe_processor = StripePaymentProcessor(
                secret_key=settings.stripe_secret_key,
                webhook_secret=settings.stripe_webhook_secret,
                clock=clock,
                tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
                api_base=settings.stripe_api_base or None,
            )
            closers.append(stripe_processor.aclose)
            processor = stripe_processor
        else:
            from dreamina.adapters.payments.sandbox import LocalPaymentSandbox

            processor = LocalPaymentSandbox(
                # The sandbox signs its events like Stripe does; without a configured secret it derives one.
                secret=settings.stripe_webhook_secret or vault.blind_index("sandbox-webhook-secret", "v1"),
                clock=clock,
                checkout_base_url=base + "/v1/billing/sandbox/checkout",
                tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
            )
    catalogue = Catalogue(parse_packs(settings.billing_packs))
    events = PaymentEvents(
        uow=uow,
        clock=clock,
        processor=processor,
        record_retention=timedelta(days=settings.billing_record_retention_days),
    )
    sink_owner: Any = processor
    if hasattr(sink_owner, "sink") and sink_owner.sink is None:
        sink_owner.sink = events.receive  # the sandbox delivers its signed events to the same handler
    from dreamina.adapters.generation_charges import LedgerGenerationCharges

    credits = Credits(uow=uow, clock=clock, welcome_credits=settings.billing_welcome_credits)
    prices = GenerationPrices(
        image_per_output=settings.billing_image_cost, video_per_second=settings.billing_video_cost_per_second
    )
    return Billing(
        processor=processor,
        catalogue=catalogue,
        prices=prices,
        credits=credits,
        checkout=Checkout(
            uow=uow,
            clock=clock,
            processor=processor,
            catalogue=catalogue,
            vault=vault,
            cipher=cipher,
            success_url=base + "/v1/billing/checkout/return?outcome=success",
            cancel_url=base + "/v1/billing/checkout/return?outcome=cancelled",
        ),
        events=events,
        records=BillingRecords(uow=uow, clock=clock, processor=processor),
        charges=LedgerGenerationCharges(credits, prices),
    )
