"""Content moderation end to end (issue 17, policy section 3), on memory, SQLite and PostgreSQL, with the offline
moderator and with OpenAI's moderation API against its emulation.

A refused prompt or image is answered 422 ``content_refused`` with its category before anything is charged or sent
to a model provider, and is stored nowhere in plaintext (every column of every table, every object's key and bytes
searched); only a record of the refusal is kept (category, time, what was checked, a keyed hash). A pass is not
recorded. A refused output fails its job with the charge released. A moderator outage answers 503 with
Retry-After and sends nothing on.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dreamina.adapters.video_frames import PyAvVideoFrames
from dreamina.domain.generation.failures import REASON_MODERATED
from dreamina.ports.moderation import CheckedContent, FramesUnavailable
from tests.contract.moderation_emulator import pixels
from tests.contract.moderation_samples import (
    BAD_IMAGE_CATEGORY,
    BAD_PHRASE,
    BAD_TEXT_CATEGORY,
    bad_image,
    benign_image,
)
from tests.contract.vendor_emulators import RETRY_AFTER, png
from tests.e2e.helpers import signed_in

from .moderation_rig import Rig, rig  # noqa: F401  (the fixture)

PROMPT = f"a quiet street, then {BAD_PHRASE} in neon"


async def _generate(r: Rig, headers: dict[str, str], prompt: str) -> Any:
    return await r.client.post("/v1/generations", json={"kind": "image", "prompt": prompt}, headers=headers)


async def _upload(r: Rig, headers: dict[str, str], data: bytes) -> Any:
    return await r.client.post("/v1/uploads", files={"file": ("a.png", data, "image/png")}, headers=headers)


async def _records(r: Rig, subject: uuid.UUID) -> list[Any]:
    async with r.container.infra.uow() as uow:
        return await uow.moderation_records.for_subject(subject)


async def _moderation_disclosures(r: Rig, subject: uuid.UUID) -> list[Any]:
    async with r.container.infra.uow() as uow:
        return [d for d in await uow.disclosures.list_for_subject(subject) if d.processor == "openai_moderation"]


async def test_a_refused_prompt_is_never_charged_sent_or_stored(rig: Rig) -> None:  # noqa: F811
    headers = await signed_in(rig.client, "prompt@example.com")
    subject = await rig.subject(headers)

    refused = await _generate(rig, headers, PROMPT)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (refused.json()["code"], refused.json()["category"]) == ("content_refused", BAD_TEXT_CATEGORY)
    assert rig.charges.calls == []  # never reserved, so never charged
    await rig.settle()
    assert rig.provider.requests == []  # the model provider saw nothing
    assert (await rig.client.get("/v1/generations", headers=headers)).json()["items"] == []
    assert await rig.stored_anywhere(BAD_PHRASE) == []
    [record] = await _records(rig, subject)
    assert (record.checked, record.category) == (CheckedContent.PROMPT, BAD_TEXT_CATEGORY)
    assert len(record.input_hmac) == 64 and BAD_PHRASE.casefold() not in record.input_hmac
    disclosed = await _moderation_disclosures(rig, subject)
    assert len(disclosed) == (0 if rig.vendor is None else 1)  # handing it to the vendor is in the ledger
    assert all(d.purpose == "prevent_fraud_and_abuse" for d in disclosed)

    passed = await _generate(rig, headers, "a quiet street in the rain")
    assert passed.status_code == 202, passed.text
    await rig.settle()
    got = (await rig.client.get(f"/v1/generations/{passed.json()['id']}", headers=headers)).json()
    assert got["status"] == "succeeded" and len(rig.provider.requests) == 1
    assert len(await _records(rig, subject)) == 1  # a pass is not recorded
    assert await rig.stored_anywhere("a quiet street in the rain") == []  # sealed at rest
    assert "a table" in await rig.stored_anywhere(str(subject))  # the search does see what is stored


async def test_a_refused_reference_image_is_never_stored_or_sent(rig: Rig) -> None:  # noqa: F811
    headers = await signed_in(rig.client, "upload@example.com")
    subject = await rig.subject(headers)

    refused = await _upload(rig, headers, bad_image())

    assert refused.status_code == 422, refused.text
    assert (refused.json()["code"], refused.json()["category"]) == ("content_refused", BAD_IMAGE_CATEGORY)
    assert await rig.store.list("uploads/") == []
    assert (await rig.client.get("/v1/uploads", headers=headers)).json()["items"] == []
    [record] = await _records(rig, subject)
    assert (record.checked, record.category) == (CheckedContent.UPLOAD, BAD_IMAGE_CATEGORY)
    assert rig.provider.requests == [] and rig.charges.calls == []
    accepted = await _upload(rig, headers, benign_image())
    assert accepted.status_code == 201, accepted.text
    assert len(await rig.store.list("uploads/")) == 1
    # each image handed to the vendor, refused or not, is in the ledger; the offline lists hand nothing over
    assert len(await _moderation_disclosures(rig, subject)) == (0 if rig.vendor is None else 2)


async def test_a_refused_output_fails_the_job_and_releases_the_charge(rig: Rig) -> None:  # noqa: F811
    if rig.vendor is None:
        return  # the offline lists hold no hash of the renderer's outputs; the vendor flags the emulated one
    rig.vendor.bad_images.add(pixels(png((0, 10, 10))))  # what the emulated Images API returns first
    headers = await signed_in(rig.client, "output@example.com")
    subject = await rig.subject(headers)
    submitted = await _generate(rig, headers, "a harmless prompt")
    assert submitted.status_code == 202, submitted.text
    await rig.settle()

    got = (await rig.client.get(f"/v1/generations/{submitted.json()['id']}", headers=headers)).json()
    assert (got["status"], got["outputs"]) == ("failed", [])
    assert got["failure_reason"] == REASON_MODERATED
    assert rig.charges.effective(uuid.UUID(submitted.json()["id"])) == "release"
    assert await rig.store.list("outputs/") == []
    [record] = await _records(rig, subject)
    assert record.checked is CheckedContent.OUTPUT
    assert len(await _moderation_disclosures(rig, subject)) == 2  # the prompt, then the (first) output


async def test_a_moderator_outage_answers_503_and_sends_nothing_on(rig: Rig) -> None:  # noqa: F811
    if rig.vendor is None:
        return  # the offline moderator runs in this process
    headers = await signed_in(rig.client, "outage@example.com")
    for fault, retry_after in (("500", "30"), ("429", RETRY_AFTER), ("timeout", "30")):
        rig.vendor.fault = fault
        answer = await _generate(rig, headers, "a harmless prompt")
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "busy" and answer.headers["retry-after"] == retry_after
        rig.vendor.fault = fault
        assert (await _upload(rig, headers, benign_image())).status_code == 503
    await rig.settle()
    assert rig.provider.requests == [] and rig.charges.calls == []
    assert await rig.store.list("") == []
    assert await _records(rig, await rig.subject(headers)) == []  # an outage is no refusal


async def test_the_moderation_vendor_is_in_the_public_record_only_when_configured(rig: Rig) -> None:  # noqa: F811
    record = {p["id"]: p for p in (await rig.client.get("/v1/privacy/processors")).json()["processors"]}
    if rig.vendor is None:
        assert "openai_moderation" not in record  # the offline lists hand nothing to anybody
        return
    vendor = record["openai_moderation"]
    assert "content" in vendor["categories"] and vendor["purposes"] == ["prevent_fraud_and_abuse"]


async def test_an_outage_while_checking_outputs_retries_the_job_and_stores_nothing_unchecked(
    rig: Rig,  # noqa: F811
) -> None:
    if rig.vendor is None:
        return  # the offline moderator runs in this process
    vendor = rig.vendor
    headers = await signed_in(rig.client, "late@example.com")
    submitted = await _generate(rig, headers, "a harmless prompt")
    assert submitted.status_code == 202, submitted.text
    vendor.fault = "500"  # the next moderation call: the first output's check
    run = rig.container.generation.runner.run
    generation_id = uuid.UUID(submitted.json()["id"])

    first = await run(generation_id)

    assert first.outcome.value == "retry"  # not failed, not succeeded: tried again later
    assert await rig.store.list("outputs/") == []  # nothing stored unchecked
    assert rig.charges.effective(generation_id) is None  # the reservation stands
    await rig.settle()
    got = (await rig.client.get(f"/v1/generations/{generation_id}", headers=headers)).json()
    assert got["status"] == "succeeded" and len(await rig.store.list("outputs/")) == len(got["outputs"])
    assert rig.charges.effective(generation_id) == "capture"
    assert await _records(rig, await rig.subject(headers)) == []  # an outage is no refusal


async def test_a_restricted_subjects_content_is_not_even_checked(rig: Rig) -> None:  # noqa: F811
    """G4: checking is processing; a restricted subject is refused before anything reaches the moderator."""
    headers = await signed_in(rig.client, "frozen@example.com")
    subject = await rig.subject(headers)
    async with rig.container.infra.uow() as uow:
        await uow.restrictions.restrict(subject, "art. 18", rig.container.infra.clock.now())
        await uow.commit()
    assert (await _generate(rig, headers, PROMPT)).json()["code"] == "processing_restricted"
    assert (await _upload(rig, headers, bad_image())).json()["code"] == "processing_restricted"
    assert rig.vendor is None or rig.vendor.requests == []
    assert await _records(rig, subject) == [] and await _moderation_disclosures(rig, subject) == []


async def _video(r: Rig, headers: dict[str, str]) -> uuid.UUID:
    body = {"kind": "video", "prompt": "waves on a shore", "params": {"duration_seconds": 1, "seed": 7}}
    submitted = await r.client.post("/v1/generations", json=body, headers=headers)
    assert submitted.status_code == 202, submitted.text
    await r.settle()
    return uuid.UUID(submitted.json()["id"])


async def test_a_video_output_is_checked_by_its_frames_and_refused_if_one_is(rig: Rig) -> None:  # noqa: F811
    """No moderator takes video: its first, middle and last frames are checked as images before it is stored. The
    renderer is deterministic (same prompt and seed, same video), so a frame of the first video, listed as bad,
    refuses the second."""
    if rig.vendor is None:
        return  # the offline lists are fixed when the rig is built; the vendor's can grow
    headers = await signed_in(rig.client, "video@example.com")
    subject = await rig.subject(headers)
    first = await _video(rig, headers)
    got = (await rig.client.get(f"/v1/generations/{first}", headers=headers)).json()
    assert got["status"] == "succeeded", got
    frames_checked = [b for b in rig.vendor.bodies if b["input"][0]["type"] == "image_url"]
    assert len(frames_checked) == 3  # first, middle, last: what left for the vendor, as PNG data URLs
    assert all(b["input"][0]["image_url"]["url"].startswith("data:image/png;base64,") for b in frames_checked)
    [stored] = await rig.store.list(f"outputs/{subject}/{first}/")

    frames = await PyAvVideoFrames().sample(await rig.store.get(stored), "video/mp4")
    rig.vendor.bad_images.add(pixels(frames[1]))  # the middle frame of that same video
    second = await _video(rig, headers)
    got = (await rig.client.get(f"/v1/generations/{second}", headers=headers)).json()
    assert (got["status"], got["outputs"], got["failure_reason"]) == ("failed", [], REASON_MODERATED)
    assert rig.charges.effective(second) == "release"
    assert await rig.store.list(f"outputs/{subject}/{second}/") == []
    [record] = await _records(rig, subject)
    assert record.checked is CheckedContent.OUTPUT


async def test_a_video_that_cannot_be_decoded_is_never_served() -> None:
    with pytest.raises(FramesUnavailable):
        await PyAvVideoFrames().sample(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video/mp4")
