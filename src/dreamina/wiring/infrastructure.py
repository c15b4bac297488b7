"""The infrastructure every module shares, chosen by the settings: store, keys, mail, objects, clock, throttles."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamina.adapters.sql.database import Database
from dreamina.adapters.sql.repository_kit import SqlRepositories
from dreamina.domain.privacy.jurisdictions import JurisdictionTable, load_jurisdictions
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.secrets import SecretChecks, ThrottleRules
from dreamina.ports.clock import Clock
from dreamina.ports.identity import LiveSessionCache
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.mail import Mailer
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.security import AttemptCounter, PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import Settings
from dreamina.wiring.kit import Hook, ModuleParts


@dataclass(frozen=True, slots=True)
class Infrastructure:
    """The adapters the settings name (or a test's overrides), built once and shared by every module."""

    settings: Settings
    clock: Clock
    uow: UnitOfWorkFactory
    vault: KeyVault
    cipher: FieldCipher
    keyrings: Keyrings
    mailer: Mailer
    mail: MailDelivery  # the outbox every module queues its mail in
    secret_checks: SecretChecks  # one throttle for every check of a password, code or token
    object_store: ObjectStore
    attempts: AttemptCounter
    passwords: PasswordHasher
    jurisdictions: JurisdictionTable
    database: DatabaseHealth
    closers: tuple[Hook, ...]
    starters: tuple[Hook, ...] = ()  # start-up checks of the adapters (the S3 bucket's lifecycle rule)
    live_sessions: LiveSessionCache | None = None  # the database's principal cache, where this wiring built it


class DatabaseHealth:
    """Whether each dependency answers (the readiness check): the database, Redis when one is configured, the
    object store (its bucket). A check that fails or raises counts as no answer."""

    def __init__(
        self,
        ping: Callable[[], Awaitable[bool]],
        redis_ping: Callable[[], Awaitable[bool]] | None = None,
        objects: ObjectStore | None = None,
    ) -> None:
        self._ping = ping
        self._redis_ping = redis_ping
        self._objects = objects

    async def ok(self) -> bool:
        return await self._answers(self._ping)

    async def report(self) -> dict[str, str]:
        """``ok``, ``unavailable`` or ``not_configured`` for ``database``, ``redis`` and ``objects``."""

        async def bucket() -> bool:
            assert self._objects is not None
            await self._objects.list("readiness-probe/")  # a missing bucket or an unreachable store raises
            return True

        state = {"database": "ok" if await self.ok() else "unavailable", "redis": "not_configured"}
        if self._redis_ping is not None:
            state["redis"] = "ok" if await self._answers(self._redis_ping) else "unavailable"
        state["objects"] = "ok" if self._objects is None or await self._answers(bucket) else "unavailable"
        return state

    @staticmethod
    async def _answers(check: Callable[[], Awaitable[bool]]) -> bool:
        try:
            async with asyncio.timeout(5):
                return await check()
        except Exception:  # an outage of any kind is "no answer"
            return False


def sql_repositories(parts: Sequence[ModuleParts]) -> SqlRepositories:
    """Every module's SQL repositories by their name in the unit of work; a name claimed twice is refused."""
    joined: dict[str, Callable[[AsyncSession], object]] = {}
    for part in parts:
        for name, make in part.sql.items():
            if name in joined:
                raise ValueError(f"repository {name} is contributed twice")
            joined[name] = make
    return joined


def wire_infrastructure(
    settings: Settings, overrides: Mapping[str, Any], parts: Sequence[ModuleParts]
) -> Infrastructure:
    from dreamina.adapters.clock import SystemClock
    from dreamina.adapters.crypto import AesGcmCipher
    from dreamina.adapters.passwords import Argon2PasswordHasher

    closers: list[Hook] = []
    starters: list[Hook] = []
    clock: Clock = overrides.get("clock") or SystemClock()
    vault: KeyVault = overrides.get("vault") or _vault(settings)
    uow: UnitOfWorkFactory | None = overrides.get("uow")
    database_ping: Callable[[], Awaitable[bool]] | None = overrides.get("database_ping")
    live_sessions: LiveSessionCache | None = None
    if uow is None:
        database = Database(
            settings.resolved_database_url,
            sql_repositories(parts),
            principal_cache_seconds=settings.session_cache_seconds,
        )
        uow = database.unit_of_work
        database_ping = database.ping
        live_sessions = database.principal_cache
        closers.append(database.dispose)
        listener = database.revocation_listener()
        if listener is not None:  # other processes' sign-outs reach this one's token cache
            starters.append(listener.start)
            closers.append(listener.aclose)
    if database_ping is None:

        async def database_ping() -> bool:
            return True

    attempts: AttemptCounter | None = overrides.get("attempts")
    if attempts is None:
        attempts = _attempts(settings, clock, closers)
    # A key for signing object URLs, derived from the vault so no extra secret is needed.
    url_key = bytes.fromhex(vault.blind_index("object-url-signing", "v1"))
    cipher = AesGcmCipher()
    mailer: Mailer = overrides.get("mailer") or _mailer(settings)
    object_store: ObjectStore = overrides.get("object_store") or _object_store(settings, url_key, clock, starters)
    return Infrastructure(
        settings=settings,
        clock=clock,
        uow=uow,
        vault=vault,
        cipher=cipher,
        keyrings=Keyrings(vault, cipher, clock),
        mailer=mailer,
        mail=MailDelivery(uow=uow, vault=vault, cipher=cipher, mailer=mailer, clock=clock),
        secret_checks=SecretChecks(
            attempts, vault, ThrottleRules(settings.login_max_failures, settings.login_window_seconds)
        ),
        object_store=object_store,
        attempts=attempts,
        passwords=overrides.get("passwords")
        or Argon2PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib),
        jurisdictions=load_jurisdictions(),
        database=DatabaseHealth(database_ping, getattr(attempts, "ping", None), object_store),
        closers=tuple(closers),
        starters=tuple(starters),
        live_sessions=live_sessions,
    )


def _vault(settings: Settings) -> KeyVault:
    from dreamina.adapters.crypto import EnvKeyVault, LocalFileKeyVault

    if settings.master_key:
        return EnvKeyVault(settings.master_key)
    return LocalFileKeyVault(settings.resolved_master_key_file)


def _attempts(settings: Settings, clock: Clock, closers: list[Hook]) -> AttemptCounter:
    if settings.redis_url:
        from dreamina.adapters.redis_throttle import RedisAttemptCounter

        redis_attempts = RedisAttemptCounter(settings.redis_url)
        closers.append(redis_attempts.aclose)
        return redis_attempts
    from dreamina.adapters.memory.throttle import InMemoryAttemptCounter

    return InMemoryAttemptCounter(clock)


def _mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "smtp":
        from dreamina.adapters.mail.smtp import SmtpMailer

        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_tls == "tls",
            start_tls=True if settings.smtp_tls == "starttls" else False if settings.smtp_tls == "none" else None,
        )
    from dreamina.adapters.mail.outbox import OutboxMailer

    return OutboxMailer(settings.resolved_mail_outbox, sender=settings.mail_from)


def _object_store(settings: Settings, url_signing_key: bytes, clock: Clock, starters: list[Hook]) -> ObjectStore:
    if settings.object_store == "s3":
        from dreamina.adapters.s3_object_store import S3ObjectStore  # aiobotocore: a third of a second to import

        bucket = S3ObjectStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id or None,
            secret_access_key=settings.s3_secret_access_key or None,
        )
        starters.append(bucket.check_lifecycle)
        return bucket
    from dreamina.adapters.object_store import LocalObjectStore

    return LocalObjectStore(
        settings.resolved_object_store_path,
        url_signing_key=url_signing_key,
        base_url=settings.resolved_public_base_url + "/v1/objects/",
        clock=clock,
    )
