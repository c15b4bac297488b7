"""Retrying a unit of work that lost a race to a concurrent writer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from dreamina.domain.privacy.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 8


async def retry_on_conflict(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` again when it lost a race (a ``Conflict`` from a concurrent writer); it must be idempotent."""
    for _ in range(ATTEMPTS - 1):
        try:
            return await attempt()
        except Conflict:
            continue
    return await attempt()
