"""The access report says exactly what is held, however much that is: each store's count of the subject's records
(more than any page of them: a ledger of 600 entries was reported as 500), none of another subject's, and the
processors their data went to, each with its count, its first and last hand-off, the categories and purposes, on
every backend. The counts and the summary come from the stores, not from every record loaded
(``bench/history.py``: 20,000 generations made a report take 5 s and 37 MB of Python heap)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dreamina.bootstrap import Container, build_container
from dreamina.domain.generation.rules import PROMPT_FIELD
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import load_settings

from ..contract.billing_rows import make_entry
from ..contract.consent_rows import consent_record
from ..contract.generation_records import make_generation, make_upload
from ..contract.test_repositories_contract import make_disclosure, make_event
from ..e2e.conftest import test_overrides

AT = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def container(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> AsyncIterator[Container]:
    wired = build_container(load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=uow_factory, **test_overrides())
    await wired.start()
    try:
        yield wired
    finally:
        await wired.aclose()


async def _sign_up(container: Container, name: str) -> UUID:
    return await container.identity.registrations.sign_up(
        SignUp(f"{name}@example.com", "correct horse battery staple", date(1990, 1, 1), "DE", None, 1)
    )


async def _history(container: Container, subject: UUID, scale: int) -> None:
    """``scale`` times: an upload, a generation using it and one with none, two ledger entries a generation,
    audit events, consent records; disclosures to two processors."""
    async with container.infra.uow() as uow:
        prompt = await container.infra.keyrings(uow.subject_keys).seal(subject, PROMPT_FIELD, "a lighthouse")
        for n in range(scale):
            at = AT + timedelta(minutes=n)
            upload = make_upload(subject, at)
            await uow.uploads.add(upload)
            await uow.generations.add(make_generation(subject, (upload.id,), at, prompt_ciphertext=prompt))
            await uow.generations.add(make_generation(subject, (), at, prompt_ciphertext=prompt))
            await uow.audit.append(make_event(subject, at))
            await uow.consent_records.add(consent_record(at, subject_id=subject))
        for n in range(4 * scale):
            await uow.billing.add_entry(make_entry(subject, AT + timedelta(seconds=n), amount=1))
        for n, (processor, categories, purpose, improvement) in enumerate(
            [
                ("stripe", ("account", "payment"), "process_payments", False),
                ("offline", ("content",), "service", False),
                ("stripe", ("payment",), "process_payments", False),
                ("offline", ("content", "usage"), "service", True),
                ("offline", ("content",), "improve_service", False),
            ]
            * scale
        ):
            await uow.disclosures.record(
                make_disclosure(
                    subject,
                    AT + timedelta(hours=n),
                    processor=processor,
                    categories=categories,
                    purpose=purpose,
                    improvement_allowed=improvement,
                )
            )
        await uow.commit()


def _held(report: dict[str, Any]) -> dict[str, int]:
    return {entry["store"]: entry["records"] for entry in report["held"]}


async def test_the_report_counts_every_record_of_the_subject_and_only_theirs(container: Container) -> None:
    subject, other = await _sign_up(container, "counted"), await _sign_up(container, "neighbour")
    scale = 150  # 600 ledger entries: more than the billing export's page
    await _history(container, subject, scale)
    await _history(container, other, 2)
    report = await container.data_rights.access_reports.for_subject(subject)
    held = _held(report)
    assert held["generations"] == 2 * scale
    assert held["generation_references"] == scale
    assert held["uploads"] == scale
    assert held["credit_ledger_entries"] == 4 * scale
    assert "billing_wallets" not in held  # its entries were written without a lock: no wallet
    async with container.infra.uow() as uow:
        await uow.billing.lock_wallet(subject, AT)
        await uow.commit()
    after_lock = await container.data_rights.access_reports.for_subject(subject)
    wallet = next(entry for entry in after_lock["held"] if entry["store"] == "billing_wallets")
    assert wallet["records"] == 1 and "balance" in {f["field"] for f in wallet["fields"]}
    assert held["audit_events"] >= scale  # and the sign-up's own
    assert held["audit_events"] == _held(await container.data_rights.access_reports.for_subject(other))[
        "audit_events"
    ] + (scale - 2)
    assert held["disclosures"] == 5 * scale
    assert held["consent_records"] >= scale

    processors = {p["processor"]: p for p in report["processors_received"]}
    assert set(processors) == {"stripe", "offline"}
    stripe, offline = processors["stripe"], processors["offline"]
    assert stripe["disclosures"] == 2 * scale and offline["disclosures"] == 3 * scale
    assert stripe["categories"] == ["account", "payment"] and offline["categories"] == ["content", "usage"]
    assert stripe["purposes"] == ["process_payments"] and offline["purposes"] == ["improve_service", "service"]
    assert offline["improvement_allowed"] == scale and stripe["improvement_allowed"] == 0
    last = 5 * scale - 1
    assert stripe["first"] == AT.isoformat() and offline["first"] == (AT + timedelta(hours=1)).isoformat()
    assert offline["last"] == (AT + timedelta(hours=last)).isoformat()
    assert stripe["last"] == (AT + timedelta(hours=last - 2)).isoformat()


async def test_a_new_subject_is_reported_with_what_sign_up_stored(container: Container) -> None:
    subject = await _sign_up(container, "new")
    await _history(container, await _sign_up(container, "busy"), 3)
    report = await container.data_rights.access_reports.for_subject(subject)
    held = _held(report)
    assert held["accounts"] == 1
    for store in (
        "generations",
        "generation_references",
        "uploads",
        "credit_ledger_entries",
        "billing_wallets",
        "disclosures",
    ):
        assert store not in held
    assert report["processors_received"] == []


class _Sink:
    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}

    async def write_records(self, category: str, description: str, records: Any) -> None:
        self.records[category] = (
            [r async for r in records] if hasattr(records, "__aiter__") else [dict(r) for r in records]
        )

    async def write_file(self, path: str, description: str, chunks: Any) -> None:
        async for _ in chunks:
            pass


async def test_the_export_writes_every_record_past_a_page_in_order(container: Container) -> None:
    subject = await _sign_up(container, "exported")
    await _history(container, subject, 150)  # 300 generations, 600 ledger entries, 750 disclosures: past a page
    await _history(container, await _sign_up(container, "next-door"), 2)
    sink = _Sink()
    for holder in container.data_rights.holders:
        await holder.export(subject, sink)
    exported = sink.records
    assert len(exported["generations"]) == 300 and len(exported["uploads"]) == 150
    assert len(exported["credit_ledger"]) == 600
    assert len(exported["disclosures"]) == 750
    assert (
        len(exported["audit_events"])
        == _held(await container.data_rights.access_reports.for_subject(subject))["audit_events"]
    )
    for category, newest_first in (("generations", True), ("credit_ledger", True), ("uploads", True)):
        stamps = [r["created_at"] for r in exported[category]]
        assert stamps == sorted(stamps, reverse=newest_first), category
    for category in ("audit_events", "disclosures"):
        stamps = [r["occurred_at"] for r in exported[category]]
        assert stamps == sorted(stamps), category
    assert len({r["id"] for r in exported["generations"]}) == 300
    assert {r["prompt"] for r in exported["generations"]} == {"a lighthouse"}
