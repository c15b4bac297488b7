"""Handler dependencies resolved one after another instead of in a task group per batch.

Litestar 2.25 resolves the independent dependencies of a handler (a batch) concurrently, each in a task of its own
in an anyio task group; a batch of one is awaited directly. Upstream measured the cost (litestar-org/litestar#4563,
open: two empty dependencies instead of one take the handler from 41,451 to 26,492 requests/s), and here it was a
tenth of ``GET /v1/me``'s CPU (cProfile in process: the task group, three task spawns and their scheduling per
request). Our dependencies never wait on each other: the use cases are sync lookups in the container and the
principal is at most one read, so concurrency buys nothing. :func:`install` swaps in the same resolution in order,
with the same results, the same cleanup of generator dependencies and the first failure raised as it was (a
generator dependency started before another one failed is closed with that failure, not left to the collector).

The swap is guarded: it is made only over the exact ``resolve_dependencies`` of Litestar 2.25.0 (its source's
digest), so an upgrade that changes it leaves Litestar's own in place and fails a unit test
(``tests/unit/test_sequential_dependencies.py``) until this module is reviewed against the new code.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel

REVIEWED = "f5e60119abf69eff695b2287a6e46a44688f06a70157c4292243fa09080e44fa"
"""The SHA-256 of Litestar 2.25.0's ``KwargsModel.resolve_dependencies`` source, the code this replaces."""

_ORIGINAL = KwargsModel.resolve_dependencies


def original_digest() -> str:
    return hashlib.sha256(inspect.getsource(_ORIGINAL).encode()).hexdigest()


async def resolve_in_order(self: KwargsModel, connection: Any, kwargs: dict[str, Any]) -> DependencyCleanupGroup:
    """Litestar's ``resolve_dependencies``, each batch's dependencies awaited in turn."""
    cleanup_group = DependencyCleanupGroup()
    try:
        for batch in self.dependency_batches:
            for dependency in batch:
                await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    except Exception as error:
        # A generator dependency already started is told of the failure (its ``finally`` runs now); Litestar's own
        # left it suspended for the garbage collector.
        await cleanup_group.close(error)
        raise
    return cleanup_group


def install() -> bool:
    """Resolve dependencies in order from now on (process-wide); False, and Litestar's own kept, if its code is not
    the reviewed one."""
    if KwargsModel.resolve_dependencies is resolve_in_order:
        return True
    if original_digest() != REVIEWED:
        return False
    KwargsModel.resolve_dependencies = resolve_in_order  # type: ignore[method-assign]
    return True
