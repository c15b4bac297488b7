"""Checks of the settings that need more than the settings module (the billing catalogue, the failpoints, the
retention schedule): :func:`dreamina.settings.load_settings` runs them, importing this module when it checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamina.settings import PREFIX, SettingsError

if TYPE_CHECKING:
    from dreamina.settings import Settings


def check_billing(s: Settings) -> None:
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


def check_failpoints(s: Settings) -> None:
    from dreamina.failpoints import parse

    try:
        parse(s.failpoints)
    except ValueError as error:
        raise SettingsError(f"DREAMINA_FAILPOINTS: {error}") from None
    if s.failpoints.strip() and s.profile == "production":  # a test aid that kills the process on purpose
        raise SettingsError("the production profile refuses DREAMINA_FAILPOINTS (it kills the process on purpose)")


def check_retention(s: Settings) -> None:
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
