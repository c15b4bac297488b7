"""Every setting is an environment variable ``DREAMINA_<NAME>``, parsed once into one typed object.

Nothing reads the environment at import time: :func:`load_settings` is called by the composition root.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from dreamina.domain.data_rights.processor_routes import parse_routes
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.ports.processor_notices import ProcessorRoute

PREFIX = "DREAMINA_"
DEV_PRIVACY_CONTACT = "privacy@dreamina.invalid"  # embedded profile's stand-in: `.invalid` never delivers (RFC 2606)
_ADDRESS = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z0-9-]{2,63}")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Typed configuration. Field ``x`` comes from ``DREAMINA_X``; the README lists each with its default."""

    profile: Literal["embedded", "production"] = "embedded"
    host: str = "127.0.0.1"
    port: int = 8000
    web_workers: int = 1  # API processes `dreamina serve` runs on one port (more than 1: PostgreSQL, Redis, SAQ)
    keep_alive_seconds: int = 75  # how long an idle HTTP connection is kept open: longer than its clients keep it
    data_dir: Path = Path("var")
    database_url: str = ""  # default: SQLite file <data_dir>/dreamina.sqlite3
    auto_migrate: bool | None = None  # default: on in embedded, off in production
    object_store: Literal["local", "s3"] = "local"
    object_store_path: Path | None = None  # default: <data_dir>/objects
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    redis_url: str = ""  # empty: in-process throttles (embedded); production: required
    master_key: str = ""  # base64 of 32 bytes; production: required
    master_key_file: Path | None = None  # embedded: <data_dir>/master.key, created on first run
    mail_outbox: Path | None = None  # default: <data_dir>/outbox
    mail_from: str = "Dreamina <no-reply@dreamina-ai.pro>"
    privacy_contact_email: str = ""  # the policy's contact (sections 7, 11); production: required
    public_base_url: str = ""  # default: http://<host>:<port>
    token_ttl_seconds: int = 7 * 24 * 3600
    policy_notice_min_days: int = 30  # the least notice a new policy version gives before it takes effect
    marketing_unsubscribe_link_days: int = 365  # how long the one-click unsubscribe link of a marketing mail works
    session_cache_seconds: float = 5.0  # how long one API process reuses a checked bearer token (0: never)
    login_max_failures: int = 5
    login_window_seconds: int = 15 * 60
    max_body_bytes: int = 1024 * 1024
    cors_allowed_origins: str = ""  # comma-separated exact origins (https://app.example); empty: no cross-origin use
    startup_wait_seconds: int = 30  # how long a starting process waits for its database to answer
    trusted_proxies: str = ""  # comma-separated addresses or networks of reverse proxies whose Forwarded header counts
    rate_limit_sensitive_per_minute: int = 20  # per client: sign-up, sign-in and other abuse-prone routes
    rate_limit_content_per_minute: int = 60  # per client: uploads and generations
    rate_limit_general_per_minute: int = 600  # per client: every other route
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    mail_backend: Literal["outbox", "smtp"] = "outbox"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    # generation
    image_provider: Literal["offline", "openai", "replicate"] = "offline"
    video_provider: Literal["offline", "runway"] = "offline"
    queue: Literal["in_process", "saq"] = "in_process"
    worker_concurrency: int = 2
    max_upload_bytes: int = 10 * 1024 * 1024
    max_upload_pixels: int = 4096 * 4096  # decoded size; bigger JPEGs decode downscaled, other formats get 413
    signed_url_ttl_seconds: int = 15 * 60
    generation_max_attempts: int = 5
    generation_job_timeout_seconds: int = 600
    job_lease_seconds: int = 20  # a job whose worker went silent this long is taken back and run again
    offline_render_seconds: float = 0.0  # the offline renderer's pretend model latency (demos, tests of jobs in flight)
    openai_api_key: str = ""
    openai_base_url: str = "https://api.openai.com/v1"
    openai_image_model: str = "gpt-image-1"
    replicate_api_token: str = ""
    replicate_base_url: str = "https://api.replicate.com/v1"
    replicate_model: str = "black-forest-labs/flux-schnell"
    runway_api_key: str = ""
    runway_base_url: str = "https://api.dev.runwayml.com/v1"
    runway_model: str = "gen4_turbo"
    moderator: Literal["offline", "openai"] = "offline"  # openai: POST /v1/moderations with openai_api_key/base_url
    moderation_terms_file: Path | None = None  # offline: "term" or "category: term" per line; none: no term refused
    moderation_hashes_file: Path | None = None  # offline: imagehash pHash hex per line; none: no image refused
    moderation_hash_distance: int = 6  # offline: bits (0..64) within which an image matches a listed hash
    moderation_review_threshold: int = 5  # refusals within the window that put an account under review
    moderation_review_window_hours: int = 24
    payments: Literal["sandbox", "stripe"] = "sandbox"
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""  # empty: https://api.stripe.com (tests point it at a loopback emulation)
    stripe_webhook_tolerance_seconds: int = 300
    billing_welcome_credits: int = 40
    billing_image_cost: int = 4
    billing_video_cost_per_second: int = 2
    billing_packs: str = "starter:100:500:eur,creator:500:2000:eur,studio:2000:6000:eur"
    billing_record_retention_days: int = 3650
    retention_sweep_minutes: int = 60  # the bound of guarantee G7: how often the retention sweep runs
    retention_batch_size: int = 1000  # records per retention transaction (how long a batch holds its row locks)
    # data-subject-request notifications to processors (README: Processor notifications)
    processor_routes: str = ""  # JSON: {"<processor>": {"email": ...} | {"webhook": ..., "secret": ...}}
    processor_notice_max_attempts: int = 8  # then the notification is given up (staff see it)
    processor_notice_max_age_hours: int = 72  # or once it is this old
    processor_notice_first_retry_seconds: int = 60  # back-off: doubles per failure, jittered, capped below
    processor_notice_longest_retry_seconds: int = 6 * 3600
    # content credentials (README: Provenance)
    provenance_signing_key: str = ""  # PEM EC P-256 key of the C2PA signer; production: required
    provenance_certificate_chain: str = ""  # PEM, the signer's certificate first; production: required
    provenance_trust_anchors_file: Path | None = None  # PEM bundle of the roots `provenance verify` trusts
    failpoints: str = ""  # tests only: where serve/worker/privacy-worker/sweep kill themselves (dreamina.failpoints)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'dreamina.sqlite3').resolve()}"

    @property
    def resolved_auto_migrate(self) -> bool:
        return self.profile == "embedded" if self.auto_migrate is None else self.auto_migrate

    @property
    def resolved_object_store_path(self) -> Path:
        return self.object_store_path or self.data_dir / "objects"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def resolved_mail_outbox(self) -> Path:
        return self.mail_outbox or self.data_dir / "outbox"

    @property
    def resolved_privacy_contact_email(self) -> str:
        """The address the served policy names (the marked development stand-in when none is configured)."""
        return self.privacy_contact_email.strip() or DEV_PRIVACY_CONTACT

    @property
    def resolved_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")


PRODUCTION_SIGNER = ("provenance_signing_key", "provenance_certificate_chain")  # README: Provenance
_SECRET_FIELDS = frozenset(
    {
        "master_key", "s3_secret_access_key", "database_url", "redis_url", "smtp_password", "openai_api_key",
        "replicate_api_token", "runway_api_key", "stripe_secret_key", "stripe_webhook_secret",
        "processor_routes",  # holds the webhook secrets
        *PRODUCTION_SIGNER,  # the chain is not secret, but a file (the _FILE form) is how it is given
    }
)  # fmt: skip


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{PREFIX}{name.upper()} must be true or false, not {raw!r}")


def _decode(type_: type, value: object) -> object:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise TypeError(f"no decoder for {type_}")


def _read_secret_file(key: str, path: str) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"{key}: cannot read the file ({exc.strerror or 'error'})") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{key}: the file is not UTF-8 text") from None
    if not value:
        raise SettingsError(f"{key}: the file is empty")
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse ``DREAMINA_*`` variables; unknown ``DREAMINA_*`` names are refused so typos do not pass silently.

    Every secret can instead be read from a file (Docker/Kubernetes secrets): ``DREAMINA_<NAME>_FILE=/path``.
    Giving both the variable and its ``_FILE`` is refused, so it is never unclear which one is in force.
    """
    env = os.environ if environ is None else environ
    known = set(Settings.__struct_fields__)
    raw: dict[str, object] = {}
    ignored = {
        "DREAMINA_TEST_POSTGRES_URL",
        "DREAMINA_TEST_REDIS_URL",
        "DREAMINA_REQUIRE_POSTGRES",
        "DREAMINA_REQUIRE_REDIS",
    }
    for key, value in env.items():
        if not key.startswith(PREFIX) or key in ignored:
            continue
        name = key[len(PREFIX) :].lower()
        if name not in known and name.endswith("_file") and name[: -len("_file")] in _SECRET_FIELDS:
            secret = name[: -len("_file")]
            if f"{PREFIX}{secret.upper()}" in env:
                raise SettingsError(f"give {PREFIX}{secret.upper()} or {key}, not both")
            raw[secret] = _read_secret_file(key, value)
            continue
        if name not in known:
            raise SettingsError(f"unknown setting {key}")
        raw[name] = _bool(name, value) if name == "auto_migrate" else value
    try:
        settings = msgspec.convert(raw, Settings, strict=False, dec_hook=_decode)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"invalid setting: {exc}") from None
    _check(settings)
    return settings


_POSITIVE = (  # settings that must be above zero
    "token_ttl_seconds policy_notice_min_days marketing_unsubscribe_link_days login_max_failures "
    "login_window_seconds max_body_bytes rate_limit_sensitive_per_minute rate_limit_content_per_minute "
    "rate_limit_general_per_minute worker_concurrency max_upload_bytes max_upload_pixels startup_wait_seconds "
    "generation_max_attempts generation_job_timeout_seconds job_lease_seconds processor_notice_max_attempts "
    "processor_notice_max_age_hours processor_notice_first_retry_seconds "
    "processor_notice_longest_retry_seconds moderation_review_threshold moderation_review_window_hours"
).split()


def _check(s: Settings) -> None:
    if not 0 < s.port < 65536:
        raise SettingsError("DREAMINA_PORT must be between 1 and 65535")
    if not 1 <= s.keep_alive_seconds <= MAX_KEEP_ALIVE_SECONDS:
        raise SettingsError(f"DREAMINA_KEEP_ALIVE_SECONDS must be 1..{MAX_KEEP_ALIVE_SECONDS}")
    for name in _POSITIVE:
        if getattr(s, name) <= 0:
            raise SettingsError(f"{PREFIX}{name.upper()} must be positive")
    if not 0 <= s.session_cache_seconds <= 60:
        raise SettingsError("DREAMINA_SESSION_CACHE_SECONDS must be 0..60")
    if not 0 <= s.offline_render_seconds <= 60:
        raise SettingsError("DREAMINA_OFFLINE_RENDER_SECONDS must be 0..60")
    if s.mail_backend == "smtp" and not s.smtp_host:
        raise SettingsError("DREAMINA_SMTP_HOST is required when DREAMINA_MAIL_BACKEND=smtp")
    if not 1 <= s.signed_url_ttl_seconds <= 7 * 24 * 3600:
        raise SettingsError("DREAMINA_SIGNED_URL_TTL_SECONDS must be 1..604800")
    if s.queue == "saq" and not s.redis_url:
        raise SettingsError("DREAMINA_QUEUE=saq requires DREAMINA_REDIS_URL")
    for provider, key in (("openai", "openai_api_key"), ("replicate", "replicate_api_token")):
        if s.image_provider == provider and not getattr(s, key):
            raise SettingsError(f"DREAMINA_IMAGE_PROVIDER={provider} requires {PREFIX}{key.upper()}")
    if s.moderator == "openai" and not s.openai_api_key:
        raise SettingsError("DREAMINA_MODERATOR=openai requires DREAMINA_OPENAI_API_KEY")
    if s.video_provider == "runway" and not s.runway_api_key:
        raise SettingsError("DREAMINA_VIDEO_PROVIDER=runway requires DREAMINA_RUNWAY_API_KEY")
    _check_billing(s)
    _check_privacy_contact(s)
    processor_routes(s)
    cors_origins(s)
    trusted_proxy_networks(s)
    _check_retention(s)
    _check_failpoints(s)
    check_web_workers(s, s.web_workers)
    if s.object_store == "s3" and not s.s3_bucket:
        raise SettingsError("DREAMINA_S3_BUCKET is required when DREAMINA_OBJECT_STORE=s3")
    if s.profile == "production":
        required = ("database_url", "master_key", "redis_url", *PRODUCTION_SIGNER)  # no development signer
        missing = [f"{PREFIX}{n.upper()}" for n in required if not getattr(s, n)]
        if missing:
            raise SettingsError("the production profile requires " + ", ".join(missing))
        if s.object_store != "s3":
            raise SettingsError("the production profile requires DREAMINA_OBJECT_STORE=s3")
        if s.payments != "stripe":  # the sandbox takes a test card number: anyone could mint credits
            raise SettingsError(
                "the production profile requires DREAMINA_PAYMENTS=stripe (the sandbox is embedded-only)"
            )
        if s.mail_backend != "smtp":  # the outbox keeps addresses and one-time codes in files
            raise SettingsError(
                "the production profile requires DREAMINA_MAIL_BACKEND=smtp (the outbox folder is embedded-only)"
            )
        if s.resolved_privacy_contact_email == DEV_PRIVACY_CONTACT:  # the policy would name a placeholder
            raise SettingsError(
                "the production profile requires DREAMINA_PRIVACY_CONTACT_EMAIL (the address the privacy policy "
                f"names in sections 7 and 11; {DEV_PRIVACY_CONTACT} is the embedded profile's stand-in)"
            )


MAX_WEB_WORKERS = 64
MAX_KEEP_ALIVE_SECONDS = 3600


def check_web_workers(s: Settings, workers: int) -> None:
    """``dreamina serve`` may run ``workers`` API processes only where nothing they must share lives in one process's
    memory. In the embedded profile the API process itself runs the generation and privacy jobs, mail delivery, the
    deadline monitor and the retention sweep (N processes would run N of each), counts rate limits and checks of
    secrets in its own memory (N processes would allow N times the budgets) and queues SQLite writes in its memory."""
    if not 1 <= workers <= MAX_WEB_WORKERS:
        raise SettingsError(f"DREAMINA_WEB_WORKERS (serve --workers) must be 1..{MAX_WEB_WORKERS}")
    if workers == 1:
        return
    missing = []
    if s.queue != "saq":
        missing.append("DREAMINA_QUEUE=saq (else the API process runs the jobs, mail and sweeps itself)")
    if not s.redis_url:
        missing.append("DREAMINA_REDIS_URL (else rate limits and sign-in throttles are counted per process)")
    if s.resolved_database_url.startswith("sqlite"):
        missing.append("a PostgreSQL DREAMINA_DATABASE_URL (SQLite writes are queued in one process's memory)")
    if missing:
        raise SettingsError(
            f"{workers} API processes (DREAMINA_WEB_WORKERS or serve --workers) need "
            + "; ".join(missing)
            + ". Run one process, or the production-like setup (README, Production quick start)"
        )


def trusted_proxy_networks(s: Settings) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The reverse proxies whose ``Forwarded`` / ``X-Forwarded-For`` header names the client (exact addresses or
    networks; empty: the connecting peer is the client)."""
    networks = []
    for entry in (e.strip() for e in s.trusted_proxies.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError:
            raise SettingsError(
                f"DREAMINA_TRUSTED_PROXIES: {entry!r} is not an IP address or network (such as 10.0.0.0/8)"
            ) from None
    return networks


def processor_routes(s: Settings) -> dict[str, ProcessorRoute]:
    """``DREAMINA_PROCESSOR_ROUTES`` parsed (:mod:`dreamina.domain.data_rights.processor_routes`)."""
    try:
        routes = parse_routes(s.processor_routes)
    except InvalidInput as exc:
        raise SettingsError(f"DREAMINA_PROCESSOR_ROUTES: {exc}") from None
    # The configured image provider receives prompts and images and its API deletes nothing: production refuses to
    # run unless it is told of erasures another way (Runway and Stripe are asked through their deletion APIs).
    if s.profile == "production" and s.image_provider in ("openai", "replicate") and s.image_provider not in routes:
        raise SettingsError(
            f"the production profile requires a DREAMINA_PROCESSOR_ROUTES entry (email or webhook) for "
            f"{s.image_provider}: it receives personal data and has no deletion API"
        )
    return routes


def cors_origins(s: Settings) -> list[str]:
    """The exact origins allowed to call the API from a browser. No wildcards: the API carries bearer tokens."""
    origins = [o.strip() for o in s.cors_allowed_origins.split(",") if o.strip()]
    for origin in origins:
        scheme, sep, rest = origin.partition("://")
        if (
            not sep
            or scheme not in {"https", "http"}
            or not rest
            or any(c in rest for c in "/*?#@ ")
            or (scheme == "http" and rest.split(":")[0] not in {"localhost", "127.0.0.1"})
        ):
            raise SettingsError(
                f"DREAMINA_CORS_ALLOWED_ORIGINS: {origin!r} is not an exact https origin "
                "(scheme://host[:port], no path or wildcard; plain http only for localhost)"
            )
    return origins


def describe(settings: Settings) -> dict[str, object]:
    """The settings with secrets masked, for start-up logs."""
    out: dict[str, object] = {}
    for name in Settings.__struct_fields__:
        value = getattr(settings, name)
        out[name] = "***" if name in _SECRET_FIELDS and value else str(value) if isinstance(value, Path) else value
    if not settings.privacy_contact_email.strip():
        out["privacy_contact_email"] = f"{DEV_PRIVACY_CONTACT} (development default; production requires a real one)"
    return out


def _check_privacy_contact(s: Settings) -> None:
    address = s.privacy_contact_email.strip()
    if address and (len(address) > 254 or not _ADDRESS.fullmatch(address)):
        raise SettingsError(
            "DREAMINA_PRIVACY_CONTACT_EMAIL must be one email address (name@domain.tld), the policy's contact"
        )


def _check_billing(s: Settings) -> None:
    from dreamina.domain.billing.catalogue import parse_packs

    for name in ("stripe_webhook_tolerance_seconds", "billing_image_cost", "billing_video_cost_per_second"):
        if getattr(s, name) <= 0:
            raise SettingsError(f"{PREFIX}{name.upper()} must be positive")
    if s.billing_welcome_credits < 0:
        raise SettingsError("DREAMINA_BILLING_WELCOME_CREDITS must not be negative")
    if s.billing_record_retention_days < 365:
        raise SettingsError("DREAMINA_BILLING_RECORD_RETENTION_DAYS must be at least 365")
    try:
        parse_packs(s.billing_packs)
    except ValueError as error:
        raise SettingsError(f"DREAMINA_BILLING_PACKS: {error}") from None
    if s.payments == "stripe" and not (s.stripe_secret_key and s.stripe_webhook_secret):
        raise SettingsError(
            "DREAMINA_PAYMENTS=stripe requires DREAMINA_STRIPE_SECRET_KEY and DREAMINA_STRIPE_WEBHOOK_SECRET"
        )


def _check_failpoints(s: Settings) -> None:
    from dreamina.failpoints import parse

    try:
        parse(s.failpoints)
    except ValueError as error:
        raise SettingsError(f"DREAMINA_FAILPOINTS: {error}") from None
    if s.failpoints.strip() and s.profile == "production":  # a test aid that kills the process on purpose
        raise SettingsError("the production profile refuses DREAMINA_FAILPOINTS (it kills the process on purpose)")


def _check_retention(s: Settings) -> None:
    from dreamina.domain.privacy.retention import sweep_cron

    try:
        sweep_cron(s.retention_sweep_minutes)
    except ValueError:
        raise SettingsError(
            "DREAMINA_RETENTION_SWEEP_MINUTES must divide an hour (1..30) or be whole hours dividing a day (60..1440)"
        ) from None
    if not 1 <= s.retention_batch_size <= 100_000:
        raise SettingsError("DREAMINA_RETENTION_BATCH_SIZE must be between 1 and 100000")
    if s.token_ttl_seconds > 30 * 24 * 3600:  # the data map declares sessions gone within 30 days
        raise SettingsError("DREAMINA_TOKEN_TTL_SECONDS must be at most 2592000 (30 days)")
