"""Settings: every DREAMINA_* variable parsed into one typed object; mistakes are refused by name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dreamina.settings import SettingsError, describe, load_settings


def test_defaults_are_the_embedded_profile() -> None:
    s = load_settings({})
    assert (s.profile, s.host, s.port) == ("embedded", "127.0.0.1", 8000)
    assert s.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert s.resolved_database_url.endswith("var/dreamina.sqlite3")
    assert s.resolved_auto_migrate is True
    assert s.resolved_object_store_path == Path("var/objects")


def test_port_and_data_dir_from_the_environment(tmp_path: Path) -> None:
    s = load_settings({"DREAMINA_PORT": "8123", "DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_AUTO_MIGRATE": "no"})
    assert s.port == 8123
    assert s.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'dreamina.sqlite3'}"
    assert s.resolved_mail_outbox == tmp_path / "outbox"
    assert s.resolved_auto_migrate is False


@pytest.mark.parametrize(
    "env",
    [
        {"DREAMINA_PORT": "eighty"},
        {"DREAMINA_PORT": "70000"},
        {"DREAMINA_PROFIL": "production"},
        {"DREAMINA_PROFILE": "staging"},
        {"DREAMINA_AUTO_MIGRATE": "maybe"},
        {"DREAMINA_PROFILE": "production"},
        {"DREAMINA_OBJECT_STORE": "s3"},
        {"DREAMINA_TOKEN_TTL_SECONDS": "0"},
        {"DREAMINA_RETENTION_BATCH_SIZE": "0"},
        {"DREAMINA_RETENTION_BATCH_SIZE": "1000000"},
        {"DREAMINA_CORS_ALLOWED_ORIGINS": "*"},
        {"DREAMINA_FAILPOINTS": "mail.after_sent"},  # a misspelt failpoint would never fire: refused by name
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(env)


PRODUCTION = {
    "DREAMINA_PROFILE": "production",
    "DREAMINA_DATABASE_URL": "postgresql+asyncpg://u:secretpw@db/dreamina",
    "DREAMINA_MASTER_KEY": "A" * 44,
    "DREAMINA_REDIS_URL": "redis://cache:6379/0",
    "DREAMINA_OBJECT_STORE": "s3",
    "DREAMINA_S3_BUCKET": "dreamina",
    "DREAMINA_S3_SECRET_ACCESS_KEY": "s3secret",
    "DREAMINA_PAYMENTS": "stripe",
    "DREAMINA_STRIPE_SECRET_KEY": "sk_live_secret",
    "DREAMINA_STRIPE_WEBHOOK_SECRET": "whsec_secret",
    "DREAMINA_MAIL_BACKEND": "smtp",
    "DREAMINA_SMTP_HOST": "smtp.example.com",
    "DREAMINA_PRIVACY_CONTACT_EMAIL": "privacy@dreamina.example",
    "DREAMINA_PROVENANCE_SIGNING_KEY": "-----BEGIN PRIVATE KEY----- signing-secret",
    "DREAMINA_PROVENANCE_CERTIFICATE_CHAIN": "-----BEGIN CERTIFICATE-----",
}


def test_production_profile_and_masked_description() -> None:
    s = load_settings(PRODUCTION)
    assert s.resolved_auto_migrate is False
    shown = str(describe(s))
    for secret in ("secretpw", "s3secret", "A" * 44, "sk_live_secret", "whsec_secret", "signing-secret"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("unsafe", "named"),
    [
        # the payment sandbox lets anyone mint credits with a test card number (issue 13, finding 12)
        ({"DREAMINA_PAYMENTS": None}, "DREAMINA_PAYMENTS=stripe"),
        ({"DREAMINA_PAYMENTS": "sandbox"}, "DREAMINA_PAYMENTS=stripe"),
        # the outbox keeps addresses and one-time codes in files
        ({"DREAMINA_MAIL_BACKEND": None}, "DREAMINA_MAIL_BACKEND=smtp"),
        ({"DREAMINA_MAIL_BACKEND": "outbox"}, "DREAMINA_MAIL_BACKEND=smtp"),
        ({"DREAMINA_MASTER_KEY": None}, "DREAMINA_MASTER_KEY"),
        # failpoints kill the process on purpose (tests of a kill inside a step)
        ({"DREAMINA_FAILPOINTS": "mail.after_send"}, "DREAMINA_FAILPOINTS"),
        # the policy's contact line (section 11) would show the development placeholder (issue 16, finding 6)
        ({"DREAMINA_PRIVACY_CONTACT_EMAIL": None}, "DREAMINA_PRIVACY_CONTACT_EMAIL"),
        ({"DREAMINA_PRIVACY_CONTACT_EMAIL": "privacy@dreamina.invalid"}, "DREAMINA_PRIVACY_CONTACT_EMAIL"),
        # outputs would carry content credentials from the untrusted development signer (issue 17)
        ({"DREAMINA_PROVENANCE_SIGNING_KEY": None}, "DREAMINA_PROVENANCE_SIGNING_KEY"),
        ({"DREAMINA_PROVENANCE_CERTIFICATE_CHAIN": None}, "DREAMINA_PROVENANCE_CERTIFICATE_CHAIN"),
    ],
)
def test_production_refuses_unsafe_settings_naming_them(unsafe: dict[str, str | None], named: str) -> None:
    env = {k: v for k, v in {**PRODUCTION, **unsafe}.items() if v is not None}
    with pytest.raises(SettingsError) as refused:
        load_settings(env)
    assert named in str(refused.value)


def test_secrets_can_come_from_files_and_are_never_shown(tmp_path: Path) -> None:
    key_file = tmp_path / "stripe_key"
    key_file.write_text("sk_test_fromafile\n")
    hook_file = tmp_path / "hook"
    hook_file.write_text("whsec_fromafile")
    s = load_settings(
        {
            "DREAMINA_PAYMENTS": "stripe",
            "DREAMINA_STRIPE_SECRET_KEY_FILE": str(key_file),
            "DREAMINA_STRIPE_WEBHOOK_SECRET_FILE": str(hook_file),
        }
    )
    assert (s.stripe_secret_key, s.stripe_webhook_secret) == ("sk_test_fromafile", "whsec_fromafile")
    assert "fromafile" not in str(describe(s))


@pytest.mark.parametrize(
    ("env_of", "message"),
    [
        (lambda f: {"DREAMINA_STRIPE_SECRET_KEY_FILE": str(f.parent / "missing")}, "cannot read"),
        (lambda f: {"DREAMINA_STRIPE_SECRET_KEY_FILE": str(f), "DREAMINA_STRIPE_SECRET_KEY": "x"}, "not both"),
        (lambda f: {"DREAMINA_PORT_FILE": str(f)}, "unknown setting"),  # only secrets read files
    ],
)
def test_secret_files_are_checked(tmp_path: Path, env_of: object, message: str) -> None:
    secret = tmp_path / "secret"
    secret.write_text("value")
    with pytest.raises(SettingsError, match=message):
        load_settings(env_of(secret))  # type: ignore[operator]


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(SettingsError, match="empty"):
        load_settings({"DREAMINA_SMTP_PASSWORD_FILE": str(empty)})


@pytest.mark.parametrize(
    "origins",
    [
        "*",
        "https://*.example.com",
        "https://app.example.com/",
        "app.example.com",
        "http://app.example.com",
        "ftp://example.com",
        "https://user@example.com",
    ],
)
def test_cors_origins_must_be_exact(origins: str) -> None:
    with pytest.raises(SettingsError, match="CORS"):
        load_settings({"DREAMINA_CORS_ALLOWED_ORIGINS": origins})


def test_cors_origins_accepts_exact_origins() -> None:
    from dreamina.settings import cors_origins

    s = load_settings({"DREAMINA_CORS_ALLOWED_ORIGINS": "https://app.example.com, http://localhost:5173"})
    assert cors_origins(s) == ["https://app.example.com", "http://localhost:5173"]


SCALED_OUT = {
    "DREAMINA_DATABASE_URL": "postgresql+asyncpg://u:pw@db/dreamina",
    "DREAMINA_REDIS_URL": "redis://cache:6379/0",
    "DREAMINA_QUEUE": "saq",
}


def test_several_api_processes_need_postgresql_redis_and_saq() -> None:
    assert load_settings({**SCALED_OUT, "DREAMINA_WEB_WORKERS": "4"}).web_workers == 4
    assert load_settings({**PRODUCTION, "DREAMINA_QUEUE": "saq", "DREAMINA_WEB_WORKERS": "2"}).web_workers == 2
    assert load_settings({}).web_workers == 1  # the embedded profile: one process
    for workers in ("0", "-1", "65"):
        with pytest.raises(SettingsError, match="DREAMINA_WEB_WORKERS"):
            load_settings({**SCALED_OUT, "DREAMINA_WEB_WORKERS": workers})
    # The embedded profile runs jobs, mail and sweeps in the API process and counts budgets in its memory.
    with pytest.raises(SettingsError) as refused:
        load_settings({"DREAMINA_WEB_WORKERS": "2"})
    for named in ("DREAMINA_QUEUE=saq", "DREAMINA_REDIS_URL", "PostgreSQL"):
        assert named in str(refused.value)
    for missing in ("DREAMINA_QUEUE", "DREAMINA_DATABASE_URL"):
        env = {k: v for k, v in SCALED_OUT.items() if k != missing}
        with pytest.raises(SettingsError, match="DREAMINA_QUEUE=saq" if missing == "DREAMINA_QUEUE" else "PostgreSQL"):
            load_settings({**env, "DREAMINA_WEB_WORKERS": "2"})


def test_serve_workers_is_refused_in_the_embedded_profile_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dreamina.entrypoints.cli import main

    for name in [k for k in os.environ if k.startswith("DREAMINA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DREAMINA_DATA_DIR", str(tmp_path / "data"))
    assert main(["serve", "--workers", "2"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    refused = json.loads(line)
    assert refused["event"] == "startup_refused" and "serve --workers" in refused["error"]
    assert not (tmp_path / "data").exists()  # refused before it made its data directory or touched a database


def test_the_privacy_contact_has_a_marked_development_default_and_must_be_an_address() -> None:
    """Issue 16, finding 6: the policy names a real contact; the embedded profile's stand-in says it is one."""
    assert load_settings({}).resolved_privacy_contact_email == "privacy@dreamina.invalid"
    assert load_settings({}).privacy_contact_email == ""
    configured = load_settings({"DREAMINA_PRIVACY_CONTACT_EMAIL": " dpo@dreamina.example "})
    assert configured.resolved_privacy_contact_email == "dpo@dreamina.example"
    assert load_settings(PRODUCTION).resolved_privacy_contact_email == "privacy@dreamina.example"
    assert "development default" in str(describe(load_settings({}))["privacy_contact_email"])
    assert describe(load_settings(PRODUCTION))["privacy_contact_email"] == "privacy@dreamina.example"
    for bad in ("privacy", "@dreamina.example", "dpo@", "dpo@localhost", "a b@dreamina.example", "x@y.example\nBcc: z"):
        with pytest.raises(SettingsError, match="DREAMINA_PRIVACY_CONTACT_EMAIL"):
            load_settings({"DREAMINA_PRIVACY_CONTACT_EMAIL": bad})


def test_the_keep_alive_time_outlives_common_clients_and_is_bounded() -> None:
    """Longer than httpx's 5 s and a load balancer's 60 s by default (tests/e2e/test_serve_keep_alive.py); a
    connection is never kept idle for more than an hour, and never for nothing."""
    assert load_settings({}).keep_alive_seconds > 60
    assert load_settings({"DREAMINA_KEEP_ALIVE_SECONDS": "5"}).keep_alive_seconds == 5
    for seconds in ("0", "-1", "3601"):
        with pytest.raises(SettingsError, match="DREAMINA_KEEP_ALIVE_SECONDS"):
            load_settings({"DREAMINA_KEEP_ALIVE_SECONDS": seconds})
