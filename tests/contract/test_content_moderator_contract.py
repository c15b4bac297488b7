"""One contract for every ContentModerator: the offline lists (terms and perceptual hashes) and OpenAI's moderation
API against an emulation of its documented HTTP API, both in this process (``httpx.MockTransport``) and served over
real HTTP on 127.0.0.1 (``LoopbackVendor``: sockets, headers, bodies and the adapter's own client as in production).
Outages need a vendor that can fail: the offline moderator runs in this process and is exempt from those alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dreamina.adapters.moderation.offline import OfflineModerator
from dreamina.adapters.moderation.openai import OpenAIModerator
from dreamina.bootstrap import declared_data_map
from dreamina.ports.moderation import ContentModerator, ModerationUnavailable
from tests.contract.moderation_emulator import ModerationEmulator, pixels
from tests.contract.moderation_samples import (
    BAD_IMAGE_CATEGORY,
    BAD_PHRASE,
    BAD_TEXT_CATEGORY,
    bad_image,
    benign_image,
    write_lists,
)
from tests.contract.vendor_emulators import RETRY_AFTER, TOKEN
from tests.e2e.loopback_vendor import LoopbackVendor

LOOPBACK = "http://127.0.0.1/v1"


@dataclass
class Harness:
    moderator: ContentModerator
    emulator: ModerationEmulator | None
    url_prefix: str = LOOPBACK  # where the emulation saw our requests go

    def vendor(self) -> ModerationEmulator:
        if self.emulator is None:
            pytest.skip("the offline moderator runs in this process: it has no outage")
        return self.emulator


@pytest.fixture(params=["offline", "openai", "openai-over-http"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "offline":
        terms, hashes = write_lists(tmp_path)
        yield Harness(OfflineModerator(terms, hashes), None)
        return
    emulator = ModerationEmulator()
    emulator.bad_terms = {BAD_PHRASE.casefold()}
    emulator.bad_images = {pixels(bad_image())}
    if request.param == "openai":
        moderator = OpenAIModerator(api_key=TOKEN, base_url=LOOPBACK, transport=emulator.transport)
        yield Harness(moderator, emulator)
        await moderator.aclose()
        return
    with LoopbackVendor(emulator, "api.openai.com") as vendor:  # a real server on 127.0.0.1, a real client
        moderator = OpenAIModerator(api_key=TOKEN, base_url=vendor.base_url, timeout_seconds=5.0)
        yield Harness(moderator, emulator, url_prefix="https://api.openai.com/v1/moderations")
        await moderator.aclose()


async def test_a_benign_prompt_passes(harness: Harness) -> None:
    verdict = await harness.moderator.check_text("a lighthouse at dusk, oil on canvas")
    assert not verdict.refused and verdict.category is None


async def test_a_listed_phrase_is_refused_whatever_its_case_with_its_category(harness: Harness) -> None:
    verdict = await harness.moderator.check_text(f"please draw {BAD_PHRASE.upper()} now")
    assert verdict.refused and verdict.category == BAD_TEXT_CATEGORY


async def test_a_known_image_is_refused_and_a_benign_one_passes(harness: Harness) -> None:
    refused = await harness.moderator.check_image(bad_image(), "image/png")
    assert refused.refused and refused.category == BAD_IMAGE_CATEGORY
    assert not (await harness.moderator.check_image(benign_image(), "image/png")).refused


async def test_the_processor_it_names_is_declared_in_the_data_map(harness: Harness) -> None:
    processor = harness.moderator.processor
    if processor is None:
        return  # nothing leaves the process
    declared = {p.id for p in declared_data_map().processors}
    assert processor in declared
    assert harness.emulator is not None and not harness.emulator.requests  # naming it sends nothing


async def test_the_vendor_gets_only_documented_fields_and_a_data_url(harness: Harness) -> None:
    emulator = harness.vendor()
    await harness.moderator.check_text("hello")
    await harness.moderator.check_image(benign_image(), "image/png")
    text, image = emulator.bodies
    assert text == {"model": "omni-moderation-latest", "input": [{"type": "text", "text": "hello"}]}
    [part] = image["input"]
    assert part["type"] == "image_url" and part["image_url"]["url"].startswith("data:image/png;base64,")
    assert all(str(r.url).startswith(harness.url_prefix) for r in emulator.requests)


@pytest.mark.parametrize("fault", ["500", "429", "timeout", "401", "malformed"])
async def test_an_outage_is_never_a_pass(harness: Harness, fault: str) -> None:
    emulator = harness.vendor()
    emulator.fault = fault
    with pytest.raises(ModerationUnavailable) as raised:
        await harness.moderator.check_text(BAD_PHRASE)
    if fault == "429":
        assert raised.value.retry_after == float(RETRY_AFTER)
    emulator.fault = fault
    with pytest.raises(ModerationUnavailable):
        await harness.moderator.check_image(bad_image(), "image/png")


async def test_offline_with_no_lists_refuses_nothing() -> None:
    moderator = OfflineModerator()
    assert not (await moderator.check_text(BAD_PHRASE)).refused
    assert not (await moderator.check_image(bad_image(), "image/png")).refused


async def test_offline_matches_a_resized_re_encoded_copy_and_whole_words_only(tmp_path: Path) -> None:
    terms, hashes = write_lists(tmp_path)
    moderator = OfflineModerator(terms, hashes)
    assert (await moderator.check_image(bad_image(200, "JPEG"), "image/jpeg")).category == BAD_IMAGE_CATEGORY
    assert (await moderator.check_text("a PLAIN-TERM here")).category == "blocked_term"
    assert not (await moderator.check_text("plain-terms are fine")).refused
