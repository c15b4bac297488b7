"""Contract suite of the data-rights ports (and the erasure methods added to identity's), on every backend."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import Objection
from dreamina.ports.data_rights import ErasureCompletion
from dreamina.ports.keys import SubjectKey
from dreamina.ports.unit_of_work import UnitOfWorkFactory

from .data_rights_records import AT, make_job, make_request, make_request_event
from .test_repositories_contract import add_account, make_acceptance, make_disclosure, make_event, make_session


async def test_requests_round_trip_and_queue_order(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    late = make_request(subject, due_at=AT + timedelta(days=40), received_at=AT)
    soon = make_request(subject, due_at=AT + timedelta(days=2), received_at=AT + timedelta(hours=1), type="access")
    closed = make_request(subject, status="completed", received_at=AT + timedelta(hours=2))
    async with uow_factory() as uow:
        for r in (late, soon, closed):
            await uow.privacy_requests.add(r)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.privacy_requests.get(late.id) == late
        assert [r.id for r in await uow.privacy_requests.list_for_subject(subject)] == [closed.id, soon.id, late.id]
        assert [r.id for r in await uow.privacy_requests.list_open(statuses=("received",), limit=10)] == [
            soon.id,
            late.id,
        ]
        assert [
            r.id for r in await uow.privacy_requests.list_open(statuses=("received",), type="export", limit=10)
        ] == [late.id]
        due_soon = await uow.privacy_requests.list_open(
            statuses=("received",), due_before=AT + timedelta(days=3), limit=10
        )
        assert [r.id for r in due_soon] == [soon.id]
        late.status = "processing"
        late.outcome = {"download": "/x"}
        late.paused_since = AT
        await uow.privacy_requests.update(late)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.privacy_requests.get(late.id) == late
        with pytest.raises(NotFound):
            await uow.privacy_requests.update(make_request(subject))
        with pytest.raises(Conflict):
            await uow.privacy_requests.add(make_request(subject, id=late.id))


async def test_requests_refuse_nul_and_naive_times(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.privacy_requests.add(make_request(uuid.uuid4(), extension_reason="a\x00b"))
        with pytest.raises(ValueError):
            await uow.privacy_requests.add(make_request(uuid.uuid4(), due_at=AT.replace(tzinfo=None)))


async def test_events_and_jobs(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    request = make_request(subject)
    job = make_job(request, run_after=AT + timedelta(days=30), kind="erasure")
    async with uow_factory() as uow:
        await uow.privacy_requests.add(request)
        second = make_request_event(request, occurred_at=AT + timedelta(seconds=1), status="processing")
        first = make_request_event(request)
        await uow.privacy_request_events.append(second)
        await uow.privacy_request_events.append(first)
        await uow.privacy_jobs.add(job)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.privacy_request_events.list_for_request(request.id) == [first, second]
        assert await uow.privacy_jobs.get(request.id) == job
        assert await uow.privacy_jobs.list_runnable(AT, 10) == []
        assert [j.request_id for j in await uow.privacy_jobs.list_runnable(AT + timedelta(days=30), 10)] == [request.id]
        with pytest.raises(Conflict):
            await uow.privacy_jobs.add(job)
        job.steps_done = ("a", "b")
        job.processor_calls = ({"processor": "stripe", "reference": None, "status": "deleted", "attempts": 1},)
        await uow.privacy_jobs.update(job)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.privacy_jobs.get(request.id) == job


async def test_a_job_lease_is_held_by_one_worker_until_it_runs_out(uow_factory: UnitOfWorkFactory) -> None:
    """Issue 13, finding 10: leases make two workers never run one job; a dead worker's lease runs out."""
    request = make_request(uuid.uuid4())
    job = make_job(request, kind="erasure")
    async with uow_factory() as uow:
        await uow.privacy_requests.add(request)
        await uow.privacy_jobs.add(job)
        await uow.commit()
    until = AT + timedelta(seconds=60)
    async with uow_factory() as uow:
        assert await uow.privacy_jobs.claim(request.id, "one", AT, until) is True
        assert await uow.privacy_jobs.claim(request.id, "two", AT + timedelta(seconds=59), until) is False
        assert await uow.privacy_jobs.claim(request.id, "one", AT + timedelta(seconds=30), until) is True  # renewed
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.privacy_jobs.get(request.id)
        assert stored is not None and (stored.lease_owner, stored.lease_until) == ("one", until)
        stored.steps_done = ("sessions_revoked",)
        stored.lease_owner, stored.lease_until = None, None
        await uow.privacy_jobs.update(stored)  # an update leaves the lease alone
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.privacy_jobs.get(request.id)
        assert stored is not None and stored.lease_owner == "one" and stored.steps_done == ("sessions_revoked",)
        # "one" died: its lease runs out and "two" takes the job over
        assert await uow.privacy_jobs.claim(
            request.id, "two", until + timedelta(seconds=1), until + timedelta(minutes=1)
        )
        await uow.privacy_jobs.release(request.id, "one")  # too late: not its lease any more
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.privacy_jobs.get(request.id)
        assert stored is not None and stored.lease_owner == "two"
        await uow.privacy_jobs.release(request.id, "two")
        assert await uow.privacy_jobs.claim(request.id, "three", AT, until) is True  # released: free at once
        stored = await uow.privacy_jobs.get(request.id)
        assert stored is not None
        stored.finish(AT)
        await uow.privacy_jobs.update(stored)
        assert await uow.privacy_jobs.claim(request.id, "three", AT, until) is False  # only pending jobs are leased
        assert await uow.privacy_jobs.claim(uuid.uuid4(), "three", AT, until) is False


async def test_two_workers_claiming_at_once_one_wins(uow_factory: UnitOfWorkFactory) -> None:
    request = make_request(uuid.uuid4())
    async with uow_factory() as uow:
        await uow.privacy_requests.add(request)
        await uow.privacy_jobs.add(make_job(request, kind="export"))
        await uow.commit()

    async def claim(owner: str) -> bool:
        async with uow_factory() as uow:
            won = await uow.privacy_jobs.claim(request.id, owner, AT, AT + timedelta(seconds=60))
            await uow.commit()
            return won

    outcomes = await asyncio.gather(*(claim(f"worker-{n}") for n in range(8)))
    assert outcomes.count(True) == 1


async def test_completions_are_recorded_once(uow_factory: UnitOfWorkFactory) -> None:
    completion = ErasureCompletion(id=uuid.uuid4(), completed_at=AT, outcome={"holders": ["identity"]})
    async with uow_factory() as uow:
        await uow.erasure_completions.add(completion)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.erasure_completions.get(completion.id) == completion
        with pytest.raises(Conflict):
            await uow.erasure_completions.add(completion)


async def test_restrictions_and_erasing_objections(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        assert await uow.restrictions.is_restricted(subject) is False
        await uow.restrictions.restrict(subject, "accuracy contested", AT)
        await uow.restrictions.restrict(subject, "again", AT + timedelta(days=1))
        await uow.objections.put(Objection(subject, Purpose.ANALYTICS, True, AT))
        await uow.objections.put(Objection(subject, Purpose.MARKETING, True, AT))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.restrictions.is_restricted(subject) is True
        restriction = await uow.restrictions.get(subject)
        assert restriction is not None and restriction.reason == "accuracy contested"
        await uow.restrictions.lift(subject, AT)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.restrictions.is_restricted(subject) is False
        assert await uow.objections.delete_for_subject(subject) == 2
        assert await uow.objections.for_subject(subject) == []
        assert await uow.restrictions.delete_for_subject(subject) == 0


async def test_erasure_methods_of_identity_stores(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    other = await add_account(uow_factory)
    pseudonym = uuid.uuid4()
    async with uow_factory() as uow:
        await uow.sessions.add(make_session(account.id))
        await uow.subject_keys.add(SubjectKey(subject_id=account.id, wrapped_key=b"k", created_at=AT))
        await uow.acceptances.add(make_acceptance(account.id, AT))
        await uow.acceptances.add(make_acceptance(other.id, AT))
        await uow.audit.append(make_event(account.id, AT, actor_id=account.id, reason="mine"))
        await uow.audit.append(make_event(other.id, AT, actor_id=account.id, reason="acted on other"))
        await uow.disclosures.record(make_disclosure(account.id, AT, reference="cus_123"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.acceptances.delete_for_subject(account.id) == 1
        assert await uow.accounts.delete(account.id) is True
        assert await uow.accounts.delete(account.id) is False
        assert await uow.subject_keys.destroy(account.id, AT) is True
        assert await uow.subject_keys.delete(account.id) is True
        assert await uow.audit.pseudonymise_subject(account.id, pseudonym) == 2
        assert await uow.disclosures.pseudonymise_subject(account.id, pseudonym) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.accounts.get(account.id) is None
        assert await uow.subject_keys.get(account.id) is None
        assert await uow.acceptances.list_for_subject(account.id) == []
        assert len(await uow.acceptances.list_for_subject(other.id)) == 1
        assert await uow.audit.list_for_subject(account.id) == []
        kept = await uow.audit.list_for_subject(pseudonym)
        assert [(e.actor_id, e.reason) for e in kept] == [(pseudonym, None)]
        on_other = await uow.audit.list_for_subject(other.id)
        assert [(e.actor_id, e.reason) for e in on_other] == [(pseudonym, None)]
        ledger = await uow.disclosures.list_for_subject(pseudonym)
        assert [(d.processor, d.reference) for d in ledger] == [("stripe", None)]


async def test_runnable_jobs_page_by_keyset_after_a_cursor(uow_factory: UnitOfWorkFactory) -> None:
    """The reaper's paging: ``after`` (run_after, request_id) gives what comes after it, ties broken by id."""
    requests = [make_request(uuid.uuid4()) for _ in range(4)]
    jobs = [make_job(r, run_after=AT if n < 3 else AT + timedelta(seconds=1)) for n, r in enumerate(requests)]
    async with uow_factory() as uow:
        for request, job in zip(requests, jobs, strict=True):
            await uow.privacy_requests.add(request)
            await uow.privacy_jobs.add(job)
        await uow.commit()
    now = AT + timedelta(minutes=1)
    async with uow_factory() as uow:
        everything = [j.request_id for j in await uow.privacy_jobs.list_runnable(now, 10)]
        assert everything[-1] == requests[3].id and sorted(everything[:3], key=lambda i: i.bytes) == everything[:3]
        pages, after = [], None
        while page := await uow.privacy_jobs.list_runnable(now, 3, after=after):
            pages.append([j.request_id for j in page])
            after = (page[-1].run_after, page[-1].request_id)
        assert pages == [everything[:3], everything[3:]]
