"""AES-GCM field sealing and the master-key vaults (file, environment, memory)."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from dreamina.adapters.crypto import (
    AesGcmCipher,
    EnvKeyVault,
    InMemoryKeyVault,
    LocalFileKeyVault,
    MasterKeyVault,
)
from dreamina.ports.keys import FieldCipher, KeyVault


@pytest.fixture
def cipher() -> FieldCipher:
    return AesGcmCipher()


@pytest.fixture
def vault() -> KeyVault:
    return InMemoryKeyVault()


# --- field cipher -------------------------------------------------------------------------------------------


def test_seal_then_open_round_trips(cipher: FieldCipher) -> None:
    key = os.urandom(32)
    for plaintext in (b"", b"ada@example.com", os.urandom(4096)):
        assert cipher.open(key, cipher.seal(key, plaintext, "accounts.email"), "accounts.email") == plaintext


def test_sealing_twice_gives_different_ciphertexts(cipher: FieldCipher) -> None:
    key = os.urandom(32)
    first, second = (cipher.seal(key, b"same", "ctx") for _ in range(2))
    assert first != second
    assert first[0] == 1  # format version byte
    assert len(first) == 1 + 12 + len(b"same") + 16


def test_a_wrong_key_does_not_open(cipher: FieldCipher) -> None:
    sealed = cipher.seal(os.urandom(32), b"secret", "ctx")
    with pytest.raises(ValueError):
        cipher.open(os.urandom(32), sealed, "ctx")


def test_a_value_moved_to_another_context_does_not_open(cipher: FieldCipher) -> None:
    key = os.urandom(32)
    sealed = cipher.seal(key, b"1990-01-01", "accounts.birth_date:42")
    with pytest.raises(ValueError):
        cipher.open(key, sealed, "accounts.birth_date:43")


@pytest.mark.parametrize("position", [0, 1, 12, 13, -1])
def test_any_flipped_bit_is_detected(cipher: FieldCipher, position: int) -> None:
    key = os.urandom(32)
    sealed = bytearray(cipher.seal(key, b"secret", "ctx"))
    sealed[position] ^= 0x01
    with pytest.raises(ValueError):
        cipher.open(key, bytes(sealed), "ctx")


@pytest.mark.parametrize("length", [0, 1, 13, 28])
def test_truncated_values_are_refused(cipher: FieldCipher, length: int) -> None:
    key = os.urandom(32)
    sealed = cipher.seal(key, b"secret", "ctx")
    with pytest.raises(ValueError):
        cipher.open(key, sealed[:length], "ctx")


def test_only_256_bit_keys_are_accepted(cipher: FieldCipher) -> None:
    with pytest.raises(ValueError):
        cipher.seal(os.urandom(16), b"x", "ctx")


def _outcome(open_value: Callable[[], bytes]) -> bytes | str:
    try:
        return open_value()
    except ValueError as error:
        return f"ValueError: {error}"


def test_an_opener_answers_every_value_as_open_does(cipher: FieldCipher) -> None:
    key, other_key = os.urandom(32), os.urandom(32)
    sealed = cipher.seal(key, b"a lighthouse at dusk", "subject/prompt")
    cases = [sealed, cipher.seal(other_key, b"not this key", "subject/prompt"), b"\x02" + sealed[1:]]
    cases += [sealed[:length] for length in (0, 1, 13, 28, len(sealed) - 1)]
    for position in (0, 1, 12, 13, len(sealed) - 1):
        flipped = bytearray(sealed)
        flipped[position] ^= 0x01
        cases.append(bytes(flipped))
    opener = cipher.opener(key)
    for case in cases:
        for context in ("subject/prompt", "subject/display_name"):
            assert _outcome(lambda c=case, x=context: opener(c, x)) == _outcome(
                lambda c=case, x=context: cipher.open(key, c, x)
            )
    assert opener(sealed, "subject/prompt") == b"a lighthouse at dusk"
    assert [opener(cipher.seal(key, v, "ctx"), "ctx") for v in (b"one", b"two")] == [b"one", b"two"]  # reused


def test_an_opener_takes_only_256_bit_keys(cipher: FieldCipher) -> None:
    with pytest.raises(ValueError):
        cipher.opener(os.urandom(16))


# --- vaults -------------------------------------------------------------------------------------------------


def test_a_data_key_unwraps_to_itself(vault: KeyVault, cipher: FieldCipher) -> None:
    plaintext_key, wrapped = vault.generate_data_key()
    assert len(plaintext_key) == 32
    assert plaintext_key not in wrapped
    assert vault.unwrap(wrapped) == plaintext_key
    assert cipher.open(vault.unwrap(wrapped), cipher.seal(plaintext_key, b"x", "c"), "c") == b"x"


def test_every_data_key_is_fresh(vault: KeyVault) -> None:
    keys = {vault.generate_data_key()[0] for _ in range(50)}
    assert len(keys) == 50


def test_two_vaults_cannot_unwrap_each_others_keys() -> None:
    first, second = InMemoryKeyVault(), InMemoryKeyVault()
    _, wrapped = first.generate_data_key()
    with pytest.raises(ValueError):
        second.unwrap(wrapped)


def test_a_vault_refuses_a_key_wrapped_by_a_master_with_a_forged_id() -> None:
    first, second = InMemoryKeyVault(), InMemoryKeyVault()
    _, wrapped = first.generate_data_key()
    _, other = second.generate_data_key()
    # same KEK id as the second vault's, ciphertext from the first: the tag check still fails
    forged = other[:9] + wrapped[9:]
    with pytest.raises(ValueError):
        second.unwrap(forged)


@pytest.mark.parametrize("damage", ["flip", "truncate", "extend", "version"])
def test_damaged_wrapped_keys_are_refused(vault: KeyVault, damage: str) -> None:
    _, wrapped = vault.generate_data_key()
    broken = {
        "flip": wrapped[:-1] + bytes([wrapped[-1] ^ 1]),
        "truncate": wrapped[:-1],
        "extend": wrapped + b"\x00",
        "version": b"\x02" + wrapped[1:],
    }[damage]
    with pytest.raises(ValueError):
        vault.unwrap(broken)


def test_blind_index_is_deterministic_per_vault_and_differs_per_purpose(vault: KeyVault) -> None:
    index = vault.blind_index("email", "ada@example.com")
    assert index == vault.blind_index("email", "ada@example.com")
    assert len(index) == 64 and int(index, 16) >= 0
    assert index != vault.blind_index("email", "bob@example.com")
    assert index != vault.blind_index("email-change", "ada@example.com")
    assert index != InMemoryKeyVault().blind_index("email", "ada@example.com")


def test_blind_index_separates_purpose_from_value(vault: KeyVault) -> None:
    # "a" + NUL + "bc" and "ab" + NUL + "c" must not collide
    assert vault.blind_index("a", "bc") != vault.blind_index("ab", "c")
    with pytest.raises(ValueError):
        vault.blind_index("a\x00b", "c")


def test_vaults_with_the_same_master_agree() -> None:
    master = os.urandom(32)
    first, second = MasterKeyVault(master), MasterKeyVault(master)
    _, wrapped = first.generate_data_key()
    assert second.unwrap(wrapped) == first.unwrap(wrapped)
    assert first.blind_index("email", "x") == second.blind_index("email", "x")


def test_the_master_key_never_shows_in_repr() -> None:
    master = os.urandom(32)
    text = repr(MasterKeyVault(master))
    assert master.hex() not in text
    assert base64.b64encode(master).decode() not in text


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    first = LocalFileKeyVault(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == 32
    assert [entry.name for entry in path.parent.iterdir()] == ["master.key"]  # no temporary file left

    _, wrapped = first.generate_data_key()
    second = LocalFileKeyVault(path)
    assert second.unwrap(wrapped) == first.unwrap(wrapped)
    assert second.blind_index("email", "x") == first.blind_index("email", "x")


def test_a_key_file_of_the_wrong_size_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_bytes(b"\x01" * 31)
    with pytest.raises(ValueError, match="31 bytes"):
        LocalFileKeyVault(path)
    assert path.read_bytes() == b"\x01" * 31


def test_env_vault_takes_base64_of_32_bytes() -> None:
    master = os.urandom(32)
    encoded = base64.b64encode(master).decode()
    _, wrapped = EnvKeyVault(encoded).generate_data_key()
    assert EnvKeyVault(f"  {encoded}\n").unwrap(wrapped) == MasterKeyVault(master).unwrap(wrapped)


@pytest.mark.parametrize(
    "value",
    ["", "not base64!", base64.b64encode(b"x" * 16).decode(), base64.b64encode(b"x" * 33).decode()],
    ids=["empty", "not-base64", "16-bytes", "33-bytes"],
)
def test_env_vault_refuses_anything_else(value: str) -> None:
    with pytest.raises(ValueError) as raised:
        EnvKeyVault(value)
    assert value.strip() == "" or value not in str(raised.value)  # the secret never lands in an error message
