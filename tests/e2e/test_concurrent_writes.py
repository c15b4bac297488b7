"""Ordinary concurrent use never answers 5xx (issue 13, findings 2 and 3).

The service is wired as the README's run command wires it (its own database handle, the in-process job queue, the
offline provider, the credit ledger), over a SQLite file and PostgreSQL. Writes from many clients at once queue
behind each other instead of being refused with 503, and every generation accepted under that load ends.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container
from dreamina.settings import load_settings

from .conftest import UNTHROTTLED, app_for
from .helpers import sign_up_body, signed_in

SUBJECTS = 10
WRITES = 200


def _container(database_url: str, tmp_path: Path) -> Container:
    settings = load_settings(
        {
            "DREAMINA_DATA_DIR": str(tmp_path),
            "DREAMINA_DATABASE_URL": database_url,
            "DREAMINA_BILLING_WELCOME_CREDITS": "100000",
            **UNTHROTTLED,
        }
    )
    return build_container(settings, mailer=InMemoryMailer(), passwords=Argon2PasswordHasher.fast())


@asynccontextmanager
async def _client(container: Container) -> AsyncIterator[Any]:
    """The API over ASGI on this test's event loop, with the container started here (its job workers, reaper and
    periodic jobs run on this loop, as they run on the server's)."""
    await container.start()
    try:
        app = app_for(container)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]  # where the test helpers find the container
            yield client
    finally:
        await container.aclose()


def _statuses(responses: list[Any]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


async def test_concurrent_consent_writes_all_succeed(database_url: str, tmp_path: Path) -> None:
    container = _container(database_url, tmp_path)
    async with _client(container) as client:
        subjects = [await signed_in(client, f"consent{i}@example.com") for i in range(SUBJECTS)]

        async def write(n: int) -> Any:
            choice = {"functional": n % 2 == 0, "analytics": n % 3 == 0, "marketing": False}
            return await client.put("/v1/consent", json=choice, headers=subjects[n % SUBJECTS])

        statuses = _statuses(await asyncio.gather(*(write(n) for n in range(WRITES))))
    assert statuses == Counter({200: WRITES})


async def test_a_mixed_load_has_no_5xx_and_every_accepted_job_ends(database_url: str, tmp_path: Path) -> None:
    container = _container(database_url, tmp_path)
    async with _client(container) as client:
        subjects = [await signed_in(client, f"mixed{i}@example.com") for i in range(6)]

        async def client_session(n: int) -> list[Any]:
            headers = subjects[n % len(subjects)]
            answers = [
                await client.post(
                    "/v1/generations", json={"kind": "image", "prompt": f"a lighthouse {n}"}, headers=headers
                ),
                await client.put(
                    "/v1/consent",
                    json={"functional": True, "analytics": n % 2 == 0, "marketing": False},
                    headers=headers,
                ),
                await client.post("/v1/accounts", json=sign_up_body(f"late{n}@example.com")),
                await client.get("/v1/generations", headers=headers),
                await client.post(
                    "/v1/generations", json={"kind": "image", "prompt": f"a harbour {n}"}, headers=headers
                ),
            ]
            return answers

        answers = [a for batch in await asyncio.gather(*(client_session(n) for n in range(40))) for a in batch]
        accepted = [
            UUID(a.json()["id"]) for a in answers if a.request.url.path == "/v1/generations" and a.status_code == 202
        ]
        await asyncio.wait_for(container.generation.queue.join(), timeout=120)  # type: ignore[attr-defined]
        async with container.infra.uow() as uow:
            unfinished = [g for g in accepted if not (await uow.generations.get(g)).status.terminal]  # type: ignore[union-attr]
    statuses = _statuses(answers)
    assert not [s for s in statuses if s >= 500], statuses
    assert accepted and not unfinished
