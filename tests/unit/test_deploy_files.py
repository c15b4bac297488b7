"""The production quick start's files say what the code accepts: every process in deploy/compose.yaml starts the
production profile with settings that pass the start-up checks, and runs a command the CLI has."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dreamina.settings import SettingsError, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
FILLED = {  # what an operator puts in deploy/.env (env.example names each)
    "POSTGRES_PASSWORD": "pg-secret",
    "MINIO_ROOT_PASSWORD": "minio-secret",
    "DREAMINA_MASTER_KEY": "A" * 43 + "=",
    "DREAMINA_STRIPE_SECRET_KEY": "sk_test_123",
    "DREAMINA_STRIPE_WEBHOOK_SECRET": "whsec_123",
    "DREAMINA_PRIVACY_CONTACT_EMAIL": "privacy@dreamina.example",
    "DREAMINA_PROVENANCE_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----",  # checked when the signer is built
    "DREAMINA_PROVENANCE_CERTIFICATE_CHAIN": "-----BEGIN CERTIFICATE-----",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def _interpolate(value: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest or ""

    return _VARIABLE.sub(one, value)


def _dreamina_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in COMPOSE["services"].items() if s.get("image") == "dreamina:latest"}


def test_env_example_names_every_required_variable() -> None:
    example = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines() if "=" in line}
    required = {m.group(1) for m in _VARIABLE.finditer((DEPLOY / "compose.yaml").read_text()) if m.group(2) == "?"}
    assert required == set(FILLED) and required <= example


@pytest.mark.parametrize("service", sorted(_dreamina_services()))
def test_each_process_starts_the_production_profile(service: str) -> None:
    spec = _dreamina_services()[service]
    env = {k: _interpolate(str(v), FILLED) for k, v in spec["environment"].items()}
    settings = load_settings(env)  # raises SettingsError if production would refuse to start
    assert settings.profile == "production" and settings.payments == "stripe" and settings.mail_backend == "smtp"
    assert settings.queue == "saq" and settings.object_store == "s3"
    command = spec["command"]
    assert command[0] == "dreamina" and command[1] in {"serve", "worker", "privacy-worker", "db"}


def test_a_missing_secret_stops_compose_and_a_missing_setting_stops_the_process() -> None:
    spec = _dreamina_services()["api"]
    with pytest.raises(KeyError, match="DREAMINA_MASTER_KEY"):
        {k: _interpolate(str(v), {**FILLED, "DREAMINA_MASTER_KEY": ""}) for k, v in spec["environment"].items()}
    env = {k: _interpolate(str(v), FILLED) for k, v in spec["environment"].items()}
    with pytest.raises(SettingsError, match="DREAMINA_MAIL_BACKEND=smtp"):
        load_settings({**env, "DREAMINA_MAIL_BACKEND": "outbox"})


def test_the_commands_exist() -> None:
    from dreamina.entrypoints import cli

    source = Path(cli.__file__).read_text()
    for spec in _dreamina_services().values():
        assert f'"{spec["command"][1]}"' in source
