"""G12 at rest: identifiers are sealed with per-subject keys; destroying a key crypto-shreds the subject."""

from __future__ import annotations

from datetime import date

import pytest

from dreamina.adapters.crypto import AesGcmCipher, InMemoryKeyVault, LocalFileKeyVault
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.sql.database import upgrade
from dreamina.bootstrap import build_container, sql_database
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.settings import load_settings

from ..e2e.conftest import test_overrides

EMAIL = "sealed.subject@example.com"
PASSWORD = "correct horse battery staple"
NAME = "Sealed Subject Name"


def _sign_up(email: str = EMAIL) -> SignUp:
    return SignUp(
        email=email,
        password=PASSWORD,
        birth_date=date(1991, 7, 14),
        country="FR",
        region=None,
        accept_policy_version=1,
        display_name=NAME,
    )


async def test_destroying_the_key_makes_every_value_unreadable(uow_factory) -> None:
    settings = load_settings({})
    container = build_container(settings, uow=uow_factory, **test_overrides())
    await container.start()
    victim = await container.identity.registrations.sign_up(_sign_up())
    bystander = await container.identity.registrations.sign_up(_sign_up("bystander@example.com"))
    assert (await container.identity.profiles.profile(victim)).email == EMAIL

    async with container.infra.uow() as uow:
        account = await uow.accounts.get(victim)
        assert account is not None
        sealed = {
            "email": account.email_ciphertext,
            "display_name": account.display_name_ciphertext,
            "birth_date": account.birth_date_ciphertext,
        }
        for value in sealed.values():
            assert value is not None and EMAIL.encode() not in value and NAME.encode() not in value
        keyring = container.infra.keyrings(uow.subject_keys)
        assert await keyring.destroy(victim) is True
        await uow.commit()

    async with container.infra.uow() as uow:
        stored = await uow.subject_keys.get(victim)
        assert stored is not None and stored.wrapped_key is None and stored.destroyed_at is not None
        keyring = container.infra.keyrings(uow.subject_keys)
        for field, value in sealed.items():
            assert value is not None
            with pytest.raises(KeyDestroyed):
                await keyring.open(victim, field, value)
        # No other key opens them either: not the bystander's, not a fresh one.
        for field, value in sealed.items():
            assert value is not None
            with pytest.raises(ValueError):
                bystander_key = container.infra.vault.unwrap((await uow.subject_keys.get(bystander)).wrapped_key)  # type: ignore[union-attr,arg-type]
                AesGcmCipher().open(bystander_key, value, f"{victim}/{field}")
            with pytest.raises(ValueError):
                AesGcmCipher().open(container.infra.vault.generate_data_key()[0], value, f"{victim}/{field}")
        assert await keyring.destroy(victim) is False  # idempotent

    with pytest.raises(KeyDestroyed):
        await container.identity.profiles.profile(victim)
    assert (await container.identity.profiles.profile(bystander)).email == "bystander@example.com"
    await container.aclose()


async def test_plaintext_identifiers_never_reach_the_sqlite_file(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'at-rest.sqlite3'}"
    await upgrade(url)
    database = sql_database(url)
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path)})
    overrides = test_overrides()
    overrides["vault"] = LocalFileKeyVault(tmp_path / "master.key")
    container = build_container(settings, uow=database.unit_of_work, database_ping=database.ping, **overrides)
    container.lifecycle.closers.append(database.dispose)
    await container.start()
    subject = await container.identity.registrations.sign_up(_sign_up())
    principal = await container.identity.sessions.authenticate(
        (await container.identity.sessions.issue_token(EMAIL, PASSWORD)).access_token
    )
    # The pending address rests sealed in the confirmation token's payload, then in the account once confirmed.
    await container.identity.email_changes.request(principal, "changed.subject@example.com", PASSWORD)
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    [confirm] = [m.body for m in mailer.sent_to("changed.subject@example.com") if m.kind == "email_change_confirm"]
    await container.identity.email_changes.confirm(confirm.split("#token=", 1)[1].split()[0])
    await container.aclose()

    raw = b"".join(p.read_bytes() for p in tmp_path.glob("at-rest.sqlite3*"))
    assert len(raw) > 0
    for plaintext in (
        EMAIL,
        "changed.subject@example.com",
        NAME,
        "1991-07-14",
        "sealed.subject",
        "correct horse",
    ):
        assert plaintext.encode() not in raw, plaintext
        assert plaintext.encode("utf-16-le") not in raw, plaintext
    assert str(subject).encode() in raw or subject.bytes in raw or subject.hex.encode() in raw  # the file is real


def test_a_vault_cannot_open_another_vaults_keys(tmp_path) -> None:
    one, two = LocalFileKeyVault(tmp_path / "one.key"), InMemoryKeyVault()
    _, wrapped = one.generate_data_key()
    with pytest.raises(ValueError):
        two.unwrap(wrapped)
    assert one.blind_index("email", "a@example.com") != two.blind_index("email", "a@example.com")
