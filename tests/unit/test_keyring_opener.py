"""A subject keyring's opener: one data-key read for many values, the same answers as ``open`` (section 7, G12)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.crypto import AesGcmCipher, InMemoryKeyVault
from dreamina.adapters.memory.kernel import InMemorySubjectKeyRepository
from dreamina.adapters.memory.tables import Table
from dreamina.domain.generation.rules import PROMPT_FIELD
from dreamina.domain.generation.views import GenerationViews
from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.keyring import Keyrings, SubjectKeyring
from dreamina.ports.generation import Generation
from dreamina.ports.keys import SubjectKey
from tests.contract.generation_records import make_generation


class CountingKeys(InMemorySubjectKeyRepository):
    """The fake key store, counting the reads of a data key."""

    def __init__(self) -> None:
        super().__init__(Table({}))
        self.reads = 0

    async def get(self, subject_id: UUID) -> SubjectKey | None:
        self.reads += 1
        return await super().get(subject_id)


NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
keyrings = Keyrings(InMemoryKeyVault(), AesGcmCipher(), MovableClock(NOW))


async def sealed_by_another_keyring(keys: CountingKeys, subject: UUID, field: str, value: str) -> bytes:
    writer = keyrings(keys)
    await writer.create(subject)
    return await writer.seal(subject, field, value)


def test_the_opener_opens_what_was_sealed_reading_the_key_once() -> None:
    async def scenario() -> None:
        keys, subject = CountingKeys(), uuid4()
        prompts = [await sealed_by_another_keyring(keys, subject, "prompt", "a red fox")]
        prompts.append(await keyrings(keys).seal(subject, "prompt", "a blue heron"))
        reader: SubjectKeyring = keyrings(keys)
        opener = await reader.opener(subject)
        assert [opener("prompt", p) for p in prompts] == ["a red fox", "a blue heron"]
        assert keys.reads == 2  # the second seal's keyring read it once, the reader once for both values
        with pytest.raises(ValueError):  # the field is authenticated: a value moved to another field does not open
            opener("display_name", prompts[0])

    asyncio.run(scenario())


def test_an_opener_of_a_shredded_subject_is_refused() -> None:
    async def scenario() -> None:
        keys, subject = CountingKeys(), uuid4()
        await sealed_by_another_keyring(keys, subject, "prompt", "a red fox")
        await keyrings(keys).destroy(subject)
        with pytest.raises(KeyDestroyed):
            await keyrings(keys).opener(subject)

    asyncio.run(scenario())


class Store:
    async def signed_url(self, key: str, ttl_seconds: int) -> str:
        return f"https://objects.test/{key}?ttl={ttl_seconds}"


class Keys:
    def __init__(self, keys: CountingKeys) -> None:
        self.subject_keys = keys


def generation(subject: UUID, prompt: bytes, at: int) -> Generation:
    return make_generation(subject, at=NOW.replace(minute=at), prompt_ciphertext=prompt)


def test_a_page_of_views_reads_each_subjects_key_once_and_opens_every_prompt() -> None:
    async def scenario() -> None:
        keys, subject, other = CountingKeys(), uuid4(), uuid4()
        texts = [f"prompt {i}" for i in range(20)]
        first = await sealed_by_another_keyring(keys, subject, PROMPT_FIELD, texts[0])
        writer = keyrings(keys)
        sealed = [first, *[await writer.seal(subject, PROMPT_FIELD, text) for text in texts[1:]]]
        theirs = await sealed_by_another_keyring(keys, other, PROMPT_FIELD, "not yours")
        page = [generation(subject, s, i) for i, s in enumerate(sealed)] + [generation(other, theirs, 30)]
        views = GenerationViews(keyrings, Store(), MovableClock(NOW), url_ttl_seconds=60)  # type: ignore[arg-type]
        before = keys.reads
        rendered = await views.page(Keys(keys), page)  # type: ignore[arg-type]
        assert [v.prompt for v in rendered] == [*texts, "not yours"]
        assert [v.id for v in rendered] == [g.id for g in page]
        assert keys.reads - before == 2  # one read per subject on the page, not one per item

    asyncio.run(scenario())


def test_a_keyring_that_shreds_a_key_opens_nothing_more_under_it() -> None:
    """The keyring keeps the cipher's context for a key as long as the key itself, and drops both when it shreds."""

    async def scenario() -> None:
        keys, subject = CountingKeys(), uuid4()
        keyring = keyrings(keys)
        await keyring.create(subject)
        sealed = await keyring.seal(subject, "prompt", "a red fox")
        assert await keyring.open(subject, "prompt", sealed) == "a red fox"  # the context is made and kept
        assert await keyring.destroy(subject)
        with pytest.raises(KeyDestroyed):
            await keyring.open(subject, "prompt", sealed)
        with pytest.raises(KeyDestroyed):
            await keyring.opener(subject)

    asyncio.run(scenario())
