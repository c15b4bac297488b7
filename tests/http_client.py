"""The HTTP test client: the app over ASGI on the test's own event loop, lifespan included, as uvicorn runs it.

Litestar's ``AsyncTestClient`` is synchronous underneath: its async transport calls the sync one, which runs each
request in a blocking portal (another thread with an event loop of its own), and the lifespan in a portal too. The
test's loop stands still while a request runs, and nothing the app opens (a pooled database connection, a background
task) may be shared with the test, whose loop is another. A server runs the lifespan and every request on one loop;
so does this client (httpx's ``ASGITransport``, with the lifespan in a task of its own as uvicorn keeps it).
"""

from __future__ import annotations

import asyncio
from typing import Any, Self

import httpx
from litestar import Litestar

BASE_URL = "http://testserver.local"
CLIENT_ADDRESS = ("127.0.0.1", 50000)  # the peer address the app sees, as behind no proxy on one machine


class AsyncTestClient(httpx.AsyncClient):
    """``async with AsyncTestClient(app=...) as client``: started, used and shut down on the caller's loop.

    The lifespan runs in a task of its own: a fixture enters the client in one task and leaves it in another, and the
    app's task groups must be left in the task that entered them. A start-up that fails raises here."""

    def __init__(self, app: Litestar, base_url: str = BASE_URL, **options: Any) -> None:
        transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
        super().__init__(transport=transport, base_url=base_url, **options)
        self.app = app
        self._stop = asyncio.Event()
        self._lifespan: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        started = asyncio.Event()

        async def lifespan() -> None:
            async with self.app.lifespan():
                started.set()
                await self._stop.wait()

        self._lifespan = asyncio.create_task(lifespan())
        waiting = asyncio.create_task(started.wait())
        await asyncio.wait([self._lifespan, waiting], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if self._lifespan.done():
            await super().__aexit__(None, None, None)
            self._lifespan.result()  # start-up failed: its error
        return self

    async def __aexit__(self, *error: Any) -> None:
        self._stop.set()
        try:
            if self._lifespan is not None:
                await self._lifespan
        finally:
            await super().__aexit__(*error)
