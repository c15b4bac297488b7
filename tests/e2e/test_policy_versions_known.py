"""Each process keeps the published policy versions it read for a minute (``PolicyCatalogue.known_versions``): a
consent choice or an analytics batch needs the version in effect, and reads none for it. These prove the reuse is
never seen: the version a choice is recorded under is the one in effect, in this process and in another one that
published it (policy section 10, guarantee G11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dreamina.adapters.clock import MovableClock
from dreamina.bootstrap import Container, build_container
from dreamina.domain.consent.policy_versions import KNOWN_FOR
from dreamina.domain.consent.preferences import Choices, Requester
from dreamina.ports.consent import ConsentMethod
from dreamina.settings import load_settings

from .conftest import START, UNTHROTTLED, test_overrides

NEW_TEXT = "1. Introduction\nVersion two of the policy.\n\n2. What we collect\nLess than before.\n"


async def _process(uow_factory: Any, tmp_path: Any, clock: MovableClock, name: str) -> Container:
    """A container as one API process builds it, over the shared store, on the shared clock."""
    settings = load_settings(
        {"DREAMINA_DATA_DIR": str(tmp_path / name), "DREAMINA_POLICY_NOTICE_MIN_DAYS": "1", **UNTHROTTLED}
    )
    wired = build_container(settings, uow=uow_factory, **{**test_overrides(), "clock": clock})
    await wired.start(run_workers=False)
    return wired


async def test_a_version_another_process_publishes_is_recorded_under_from_the_moment_it_takes_effect(
    uow_factory: Any, tmp_path: Any
) -> None:
    clock = MovableClock(START)
    reader = await _process(uow_factory, tmp_path, clock, "reader")
    publisher = await _process(uow_factory, tmp_path, clock, "publisher")
    try:
        subject = Requester(device_id="device-of-a-visitor")
        before, _ = await reader.consent.choices.choose(subject, Choices(analytics=True), ConsentMethod.BANNER)
        assert before.policy_version == 1
        known = await reader.consent.policies.known_versions()

        # The shortest notice the settings allow: a day. Published by the other process, so this one does not know.
        published = await publisher.consent.policy_changes.publish(NEW_TEXT, clock.now() + timedelta(days=1))
        assert [v.version for v in await publisher.consent.policies.known_versions()] == [1, 2]  # its own: at once
        assert await reader.consent.policies.known_versions() is known  # reused, not read again

        # Until it takes effect, version 1 is the one in effect, which is what the reused list says
        clock.advance(timedelta(days=1) - timedelta(seconds=1))
        assert (await reader.consent.policies.current()).version == 1
        still, _ = await reader.consent.choices.choose(subject, Choices(analytics=True), ConsentMethod.BANNER)
        assert still.policy_version == 1 and still.under_current_policy

        # From the moment it takes effect, every choice is recorded under it: a day is longer than the reuse
        clock.advance(timedelta(seconds=1))
        assert KNOWN_FOR < timedelta(days=1)
        after, page = await reader.consent.choices.choose(subject, Choices(analytics=True), ConsentMethod.BANNER)
        assert after.policy_version == published.version == 2
        assert after.content_sha256 == page.records[0].content_sha256 == published.content_sha256
        assert (await reader.consent.choices.state(subject)).under_current_policy
    finally:
        await reader.aclose()
        await publisher.aclose()


async def test_the_reused_versions_are_read_again_once_a_minute(uow_factory: Any, tmp_path: Any) -> None:
    clock = MovableClock(START)
    reader = await _process(uow_factory, tmp_path, clock, "reader")
    publisher = await _process(uow_factory, tmp_path, clock, "publisher")
    try:
        known = await reader.consent.policies.known_versions()
        await publisher.consent.policy_changes.publish(NEW_TEXT, clock.now() + timedelta(days=30))
        clock.advance(KNOWN_FOR - timedelta(seconds=1))
        assert await reader.consent.policies.known_versions() is known
        clock.advance(timedelta(seconds=1))
        assert [v.version for v in await reader.consent.policies.known_versions()] == [1, 2]
        # a clock set back (a corrected clock) does not make a list read "in the future" last for ever
        clock.advance(-timedelta(hours=1))
        assert await reader.consent.policies.known_versions() is not known
    finally:
        await reader.aclose()
        await publisher.aclose()
