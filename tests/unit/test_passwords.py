"""Argon2id password hashing."""

from __future__ import annotations

import pytest

from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.ports.security import PasswordHasher


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return Argon2PasswordHasher.fast()


def test_hashes_are_argon2id_and_salted(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("correct horse"), hasher.hash("correct horse")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "correct horse" not in first


def test_the_right_password_verifies(hasher: PasswordHasher) -> None:
    password = "pässwörd ✨ with unicode"
    assert hasher.verify(hasher.hash(password), password) is True


def test_a_wrong_password_does_not(hasher: PasswordHasher) -> None:
    assert hasher.verify(hasher.hash("correct horse"), "correct horse ") is False


@pytest.mark.parametrize(
    "stored",
    ["", "not a hash", "$argon2id$v=19$m=1024,t=1,p=1$AAAA$BBBB", "$2b$12$abcdefghijklmnopqrstuu"],
    ids=["empty", "garbage", "truncated-argon2", "bcrypt"],
)
def test_malformed_hashes_never_verify_and_never_raise(hasher: PasswordHasher, stored: str) -> None:
    assert hasher.verify(stored, "anything") is False


def test_parameters_are_passed_in_and_drive_rehashing() -> None:
    fast, strong = Argon2PasswordHasher.fast(), Argon2PasswordHasher(time_cost=2, memory_cost=2048)
    weak_hash = fast.hash("pw")
    assert "m=1024,t=1,p=1" in weak_hash
    assert "m=2048,t=2,p=1" in strong.hash("pw")
    assert fast.needs_rehash(weak_hash) is False
    assert strong.needs_rehash(weak_hash) is True
    assert strong.verify(weak_hash, "pw") is True  # old hashes still verify until they are rehashed
    assert fast.needs_rehash("not a hash") is True


def test_production_defaults() -> None:
    assert "m=65536,t=3,p=1" in Argon2PasswordHasher().hash("pw")
