"""A service with content moderation configured, for the moderation tests: the image provider is OpenAI's Images API
against its emulation (so a test sees every request a provider got), the moderator either the offline lists or
OpenAI's moderation API against its emulation; both emulations answer on 127.0.0.1 through ``httpx.MockTransport``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters.memory.generation import ManualJobQueue, RecordingCharges
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.moderation.offline import OfflineModerator
from dreamina.adapters.moderation.openai import OpenAIModerator
from dreamina.adapters.providers.offline import OfflineRendererProvider
from dreamina.adapters.providers.openai import OpenAIImagesProvider
from dreamina.bootstrap import Container, build_container
from dreamina.ports.generation import GenerationKind
from dreamina.ports.moderation import ContentModerator
from dreamina.settings import load_settings
from tests.contract.moderation_emulator import ModerationEmulator, pixels
from tests.contract.moderation_samples import BAD_PHRASE, bad_image, write_lists
from tests.contract.vendor_emulators import TOKEN, OpenAIEmulator
from tests.e2e.conftest import UNTHROTTLED, app_for, test_overrides
from tests.e2e.test_billing_no_card_data import everything_stored
from tests.http_client import AsyncTestClient

LOOPBACK = "http://127.0.0.1/v1"
REVIEW_THRESHOLD = 3


@dataclass
class Rig:
    container: Container
    client: AsyncTestClient
    provider: OpenAIEmulator  # every request the image provider received
    vendor: ModerationEmulator | None  # None: the offline moderator
    uow_factory: Any
    charges: RecordingCharges  # every reserve, capture and release

    @property
    def store(self) -> InMemoryObjectStore:
        store = self.container.infra.object_store
        assert isinstance(store, InMemoryObjectStore)
        return store

    async def settle(self) -> None:
        queue = self.container.generation.queue
        assert isinstance(queue, ManualJobQueue)
        await queue.drain(self.container.generation.runner.run)

    async def subject(self, headers: dict[str, str]) -> uuid.UUID:
        return uuid.UUID((await self.client.get("/v1/me", headers=headers)).json()["id"])

    async def stored_anywhere(self, needle: str) -> list[str]:
        """Where ``needle`` (case-insensitive) is found: any table's any column, or any object's key or bytes."""
        found = []
        if needle.casefold() in (await everything_stored(self.container, self.uow_factory)).casefold():
            found.append("a table")
        for key in await self.store.list(""):
            if needle.casefold().encode() in key.casefold().encode() + (await self.store.get(key)).lower():
                found.append(key)
        return found


def _moderator(kind: str, tmp_path: Path) -> tuple[ContentModerator, ModerationEmulator | None]:
    if kind == "offline":
        terms, hashes = write_lists(tmp_path)
        return OfflineModerator(terms, hashes), None
    vendor = ModerationEmulator()
    vendor.bad_terms = {BAD_PHRASE.casefold()}
    vendor.bad_images = {pixels(bad_image())}
    return OpenAIModerator(api_key=TOKEN, base_url=LOOPBACK, transport=vendor.transport), vendor


@pytest.fixture(params=["offline", "openai"])
async def rig(request: pytest.FixtureRequest, uow_factory: Any, tmp_path: Path) -> AsyncIterator[Rig]:
    moderator, vendor = _moderator(request.param, tmp_path)
    provider = OpenAIEmulator()
    images = OpenAIImagesProvider(api_key=TOKEN, base_url=LOOPBACK, transport=provider.transport)
    from dreamina.adapters.images import PillowMediaRenderer

    providers = {GenerationKind.IMAGE: images, GenerationKind.VIDEO: OfflineRendererProvider(PillowMediaRenderer())}
    settings = load_settings(
        {
            "DREAMINA_DATA_DIR": str(tmp_path),
            "DREAMINA_MODERATION_REVIEW_THRESHOLD": str(REVIEW_THRESHOLD),
            **UNTHROTTLED,
        }
    )
    overrides = test_overrides()
    container = build_container(settings, uow=uow_factory, providers=providers, moderator=moderator, **overrides)
    async with AsyncTestClient(app=app_for(container)) as client:
        yield Rig(container, client, provider, vendor, uow_factory, overrides["charges"])
    await container.aclose()
