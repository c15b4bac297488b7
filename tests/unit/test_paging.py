"""``paged`` reads a store a page at a time and gives every item once, in order, however the pages fall."""

from __future__ import annotations

import pytest

from dreamina.domain.privacy.paging import paged


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 6, 7])
async def test_every_item_once_in_order_and_no_page_held_past_the_next(count: int) -> None:
    items = list(range(10, 10 + count))
    asked: list[int | None] = []

    async def fetch(after: int | None) -> list[int]:
        asked.append(after)
        start = 0 if after is None else items.index(after) + 1
        return items[start : start + 3]

    got = [item async for item in paged(fetch, 3, lambda item: item)]
    assert got == items
    # one fetch per full page and one more for the page that ends it (shorter, maybe empty)
    assert len(asked) == count // 3 + 1
    assert asked[0] is None and asked[1:] == [items[3 * n - 1] for n in range(1, len(asked))]
