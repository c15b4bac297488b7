"""Helpers for the sign-in security tests: a password hasher that counts its checks, codes read from the mail."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container


class CountingHasher:
    """Argon2 (cheap parameters) that counts every verification: how many secrets were really checked."""

    def __init__(self) -> None:
        self._inner = Argon2PasswordHasher.fast()
        self._lock = threading.Lock()
        self.verified = 0

    def hash(self, password: str) -> str:
        return self._inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:  # verify runs in worker threads
            self.verified += 1
        return self._inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._inner.needs_rehash(password_hash)


def mailer_of(container: Container) -> InMemoryMailer:
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    return mailer


def mails(container: Container, email: str, kind: str) -> list[Any]:
    return [m for m in mailer_of(container).sent_to(email) if m.kind == kind]


def sign_in_code(container: Container, email: str) -> str:
    sent = mails(container, email, "sign_in_code")
    assert sent, "no sign-in code was mailed"
    found = re.search(r"\b(\d{6})\b", sent[-1].body)
    assert found
    return found.group(1)


def reset_token(container: Container, email: str) -> str:
    sent = mails(container, email, "password_reset")
    assert sent, "no reset code was mailed"
    found = re.search(r"\b([0-9a-f]{32}\.[A-Za-z0-9_-]+)", sent[-1].body)
    assert found
    return found.group(1)


def advance(container: Container, seconds: float) -> None:
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(seconds=seconds))
