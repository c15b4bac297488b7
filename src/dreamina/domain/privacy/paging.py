"""Reading a store a page at a time, for work whose size is a subject's history (an export's records)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

_Item = TypeVar("_Item")
_Cursor = TypeVar("_Cursor")


async def paged(
    fetch: Callable[[_Cursor | None], Awaitable[Sequence[_Item]]], size: int, cursor: Callable[[_Item], _Cursor]
) -> AsyncIterator[_Item]:
    """Every item ``fetch`` gives, in its order, holding one page at a time: ``fetch(None)`` is the first page and
    ``fetch(cursor(last))`` the page after ``last``, each at most ``size`` items; a shorter page is the last.
    ``fetch`` reads in a unit of work of its own, so none is held open while the caller consumes a page."""
    after: _Cursor | None = None
    while True:
        page = await fetch(after)
        for item in page:
            yield item
        if len(page) < size:
            return
        after = cursor(page[-1])
