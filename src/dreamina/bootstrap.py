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

from dreamina.domain.consent.analytics import Analytics
from dreamina.domain.consent.personal_data import ConsentPersonalData
from dreamina.domain.consent.policy_changes import PolicyChanges
from dreamina.domain.consent.policy_versions import INITIAL_LAST_UPDATED, INITIAL_VERSION, PolicyCatalogue
from dreamina.domain.consent.preferences import ConsentRegistry, Objections
from dreamina.domain.consent.retention import ExpiredAnalyticsEvents
from dreamina.domain.data_rights.holders import DataRightsPersonalData, SubjectDataKey, SubjectObjects
from dreamina.domain.data_rights.jobs import DataRightsJobs
from dreamina.domain.data_rights.requests import PrivacyRequests
from dreamina.domain.identity.accounts import Accounts, IdentityRules
from dreamina.domain.identity.personal_data import IdentityPersonalData
from dreamina.domain.identity.retention import ExpiredSessions
from dreamina.domain.identity.staff import StaffDirectory
from dreamina.domain.privacy.datamap import DATA_MAP, DataMap
from dreamina.domain.privacy.jurisdictions import JurisdictionTable, load_jurisdictions
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.ports.clock import Clock
from dreamina.ports.consent import ClientClassifier
from dreamina.ports.data_rights import PersonalDataHolder, ProcessorEraser
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import Mailer
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.security import AttemptCounter, PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import Settings

INITIAL_EFFECTIVE_AT = datetime(2026, 5, 1, tzinfo=UTC)


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
    policies = PolicyCatalogue(uow, clock)
    consent = ConsentRegistry(uow, vault, clock)
    objections = Objections(uow, clock)
    classifier: ClientClassifier | None = overrides.get("classifier")
    if classifier is None:
        from dreamina.adapters.client_traits import OfflineClientClassifier

        classifier = OfflineClientClassifier()
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
        erasers=overrides.get("processor_erasers") or {},
    )
    return Container(
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
        policies=policies,
        database_ping=database_ping,
        retention=RetentionSweep([ExpiredSessions(uow), ExpiredAnalyticsEvents(uow)], clock),
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
    )


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
    # Order matters for erasure: the data key goes after every holder that might still read with it, and the
    # data-rights holder runs last of all (the saga's progress lives in its tables).
    holders: tuple[PersonalDataHolder, ...] = (
        IdentityPersonalData(**keyed),
        ConsentPersonalData(uow=uow, vault=vault, clock=clock),
        SubjectObjects(object_store, exported=("uploads/", "outputs/"), not_exported=("exports/",)),
        SubjectDataKey(**keyed),
        DataRightsPersonalData(**keyed),
    )
    jobs = DataRightsJobs(
        uow=uow,
        requests=requests,
        holders=holders,
        archive=ZipExportArchive(object_store),
        store=object_store,
        erasers=erasers,
        mailer=mailer,
        clock=clock,
    )
    return DataRights(requests=requests, jobs=jobs, holders=holders, erasers=erasers)
