"""Consent records, GPC on the server, analytics only with consent, objections (policy sections 4 and 7; G3, G11)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import httpx

from dreamina.adapters.client_traits import OfflineClientClassifier
from dreamina.adapters.clock import MovableClock
from dreamina.bootstrap import Container, build_container
from dreamina.domain.consent.retention import ExpiredAnalyticsEvents
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.ports.consent import ClientTraits
from dreamina.settings import load_settings
from tests.conftest import RowCounter
from tests.e2e.conftest import UNTHROTTLED, app_for, test_overrides
from tests.e2e.consent_helpers import PAGE_VIEW, device_cookie_from, new_device, with_device
from tests.e2e.helpers import sign_up_body, signed_in
from tests.http_client import AsyncTestClient

CHOICE_OFF = {"functional": False, "analytics": False, "marketing": False}


async def _analytics_rows(stored_rows: RowCounter) -> int:
    return (await stored_rows())["analytics_events"]


async def test_no_analytics_event_is_stored_without_consent_table(
    client: AsyncTestClient, stored_rows: RowCounter
) -> None:
    """consent state x GPC (none / on the ingest request / earlier, on another endpoint) x objection x caller
    (anonymous device / signed-in subject). GPC never turns analytics on, and opts out only of sale/share and
    marketing; consent and objection decide."""
    consent_states = ["none", "granted", "withdrawn"]
    gpc_signals = ["none", "on_ingest", "earlier_elsewhere"]
    cases = [
        (who, consent, gpc, objected)
        for who, consent, gpc, objected in itertools.product(
            ["device", "subject"], consent_states, gpc_signals, [False, True]
        )
        if not (who == "device" and objected)  # only a subject can object; a device withdraws consent
    ]
    for number, (who, consent, gpc, objected) in enumerate(cases):
        case = f"{who}/{consent}/gpc={gpc}/objected={objected}"
        headers: dict[str, str] = {}
        if who == "subject":
            headers = await signed_in(client, f"table{number}@example.com")
        device = None
        if consent != "none":
            response = await client.put(
                "/v1/consent", json={**CHOICE_OFF, "analytics": True, "method": "banner"}, headers=headers
            )
            assert response.status_code == 200, case
            device = device_cookie_from(response)
            if consent == "withdrawn":
                response = await client.put(
                    "/v1/consent", json={**CHOICE_OFF, "method": "settings"}, headers=with_device(device, headers)
                )
                assert response.json()["analytics"] is False, case
        if objected:
            response = await client.put(
                "/v1/me/objections", json={"purpose": "analytics", "objected": True}, headers=headers
            )
            assert response.status_code == 200, case
        request_headers = with_device(device, headers)
        if gpc == "earlier_elsewhere":
            earlier = await client.get("/v1/privacy/policy", headers={**request_headers, "Sec-GPC": "1"})
            if device is None and who == "device":
                device = device_cookie_from(earlier)  # GPC minted a device id: use it from now on
                request_headers = with_device(device, headers)
            state = (await client.get("/v1/consent", headers=request_headers)).json()
            assert state["gpc"] is True and state["marketing"] is False, case  # holds without the header
        if gpc == "on_ingest":
            request_headers["Sec-GPC"] = "1"
        before = await _analytics_rows(stored_rows)
        response = await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=request_headers)
        assert response.status_code == 200, (case, response.text)
        expected = 2 if consent == "granted" and not objected else 0
        if expected:
            assert response.json() == {"recorded": 2, "dropped": 0}, case
        else:
            assert response.json() == {"recorded": 0, "dropped": 2, "reason": "no_consent"}, case
        assert await _analytics_rows(stored_rows) - before == expected, case


async def test_consent_starts_empty_and_every_choice_is_history_naming_the_policy(client: AsyncTestClient) -> None:
    empty = await client.get("/v1/consent")
    assert empty.status_code == 200
    assert empty.json()["necessary"] is True
    assert [empty.json()[k] for k in ("functional", "analytics", "marketing", "method")] == [False, False, False, None]
    assert "set-cookie" not in empty.headers  # reading sets no cookie

    given = await client.put("/v1/consent", json={"functional": True, "analytics": True, "marketing": True})
    cookie_header = next(h for h in given.headers.get_list("set-cookie") if h.startswith("dreamina_device="))
    assert "Secure" in cookie_header and "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header
    device = device_cookie_from(given)
    withdrawn = await client.put("/v1/consent", json={**CHOICE_OFF, "method": "settings"}, headers=with_device(device))
    body = withdrawn.json()
    assert body["analytics"] is False and body["method"] == "settings"
    policy = (await client.get("/v1/privacy/policy")).json()
    assert [(h["method"], h["analytics"]) for h in body["history"]] == [("settings", False), ("api", True)]
    assert {(h["policy_version"], h["content_sha256"]) for h in body["history"]} == {
        (policy["version"], policy["content_sha256"])
    }
    assert "set-cookie" not in withdrawn.headers  # the existing device id is kept


async def test_the_history_is_paged_newest_first(client: AsyncTestClient) -> None:
    device = await new_device(client, analytics=True)
    for i in range(24):
        answer = await client.put(
            "/v1/consent",
            json={**CHOICE_OFF, "analytics": bool(i % 2), "method": "settings"},
            headers=with_device(device),
        )
        assert answer.status_code == 200
    body = answer.json()
    assert len(body["history"]) == 20 and body["history"][0]["analytics"] is True  # the write just made comes first
    assert body["history_next"] == body["history"][-1]["id"]
    # the page a choice answers with (the page before it, with the new record in front) is the one a read after it
    # finds
    shown = (await client.get("/v1/consent", headers=with_device(device))).json()
    assert (shown["history"], shown["history_next"]) == (body["history"], body["history_next"])
    seen, before = [], None
    while True:
        query = {"limit": 7} | ({"before": before} if before else {})
        page = (await client.get("/v1/consent/history", params=query, headers=with_device(device))).json()
        seen += page["items"]
        if not (before := page["next_before"]):
            break
    assert len(seen) == 25 and len({h["id"] for h in seen}) == 25 and seen[:20] == body["history"]
    assert seen[-1]["method"] == "banner"  # the first choice comes last
    for bad in ({"limit": 0}, {"limit": 101}, {"before": "not-a-uuid"}):
        refused = await client.get("/v1/consent/history", params=bad, headers=with_device(device))
        assert refused.status_code == 400 and refused.headers["content-type"].startswith("application/problem+json")
    stranger = await client.get("/v1/consent/history", params={"before": seen[3]["id"]})
    assert stranger.status_code == 200 and stranger.json() == {"items": [], "next_before": None}


async def test_a_signed_in_choice_answers_with_the_subjects_history_and_carries_each_owners_gpc(
    client: AsyncTestClient,
) -> None:
    auth = await signed_in(client, "pages@example.com")
    device = await new_device(client, analytics=True)  # the device's own history: one banner choice
    both = {**auth, **with_device(device)}
    opted_out = await client.put("/v1/consent", json=CHOICE_OFF, headers={**both, "Sec-GPC": "1"})
    assert opted_out.status_code == 200
    answers = []
    for analytics in (True, False, True):
        answer = await client.put(
            "/v1/consent", json={**CHOICE_OFF, "analytics": analytics, "marketing": True}, headers=both
        )
        assert answer.status_code == 200
        answers.append(answer.json())
    body = answers[-1]
    # the subject's history, newest first, as a read right after finds it
    shown = (await client.get("/v1/consent", headers=auth)).json()
    assert (shown["history"], shown["history_next"]) == (body["history"], body["history_next"])
    assert [h["analytics"] for h in body["history"][:3]] == [True, False, True]
    # GPC, once observed, stays with each owner: marketing stays off for the subject and for the device
    assert body["marketing"] is False and body["gpc"] is True
    device_only = (await client.get("/v1/consent", headers=with_device(device))).json()
    assert device_only["marketing"] is False and device_only["gpc"] is True and device_only["analytics"] is True
    assert device_only["history"][0]["id"] != body["history"][0]["id"]


async def test_bad_consent_bodies_are_problems(client: AsyncTestClient) -> None:
    assert (await client.put("/v1/consent", json={"analytics": True})).status_code == 400
    bad_method = await client.put("/v1/consent", json={**CHOICE_OFF, "method": "gpc"})
    assert bad_method.status_code == 400
    forged = await client.get("/v1/consent", headers=with_device("not-a-device-id"))
    assert forged.status_code == 200 and forged.json()["method"] is None


async def test_gpc_is_recorded_once_and_holds_after_later_requests(client: AsyncTestClient) -> None:
    device = await new_device(client, analytics=True, marketing=True)
    for _ in range(3):
        seen = await client.get("/v1/consent", headers=with_device(device, {"Sec-GPC": "1"}))
        assert seen.status_code == 200
    body = seen.json()
    assert body["gpc"] is True and body["marketing"] is False and body["sale_share_opt_out"] is True
    assert body["analytics"] is True  # GPC opts out of sale/share and marketing, not of first-party analytics
    assert [h["method"] for h in body["history"]] == ["gpc", "banner"]  # newest first

    later = await client.put(
        "/v1/consent",
        json={"functional": True, "analytics": True, "marketing": True, "method": "banner"},
        headers=with_device(device),
    )
    assert later.json()["marketing"] is False and later.json()["gpc"] is True
    again = (await client.get("/v1/consent", headers=with_device(device))).json()
    assert again["marketing"] is False and again["sale_share_opt_out"] is True
    assert [h["method"] for h in again["history"]] == ["banner", "gpc", "banner"][::-1]


async def test_only_exactly_1_is_a_gpc_signal(client: AsyncTestClient) -> None:
    for value in ["0", "true", "yes", "11", ""]:
        device = await new_device(client, marketing=True)
        body = (await client.get("/v1/consent", headers=with_device(device, {"Sec-GPC": value}))).json()
        assert body["gpc"] is False and body["marketing"] is True, value
    device = await new_device(client, marketing=True)
    both = await client.get(
        "/v1/consent", headers=[("Cookie", f"dreamina_device={device}"), ("Sec-GPC", "0"), ("Sec-GPC", "1")]
    )
    assert both.json()["gpc"] is True


async def test_gpc_without_a_cookie_mints_a_device_and_opts_it_out(client: AsyncTestClient) -> None:
    first = await client.get("/v1/privacy/policy", headers={"Sec-GPC": "1"})
    device = device_cookie_from(first)
    body = (await client.get("/v1/consent", headers=with_device(device))).json()
    assert body["gpc"] is True and body["method"] == "gpc" and body["marketing"] is False


async def test_gpc_of_a_signed_in_request_opts_out_the_account_too(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "gpc-account@example.com")
    await client.put("/v1/consent", json={**CHOICE_OFF, "marketing": True}, headers=headers)
    await client.get("/v1/me", headers={**headers, "Sec-GPC": "1"})
    body = (await client.get("/v1/consent", headers=headers)).json()
    assert body["gpc"] is True and body["marketing"] is False


async def test_gpc_support_resource(client: AsyncTestClient) -> None:
    response = await client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["gpc"] is True and response.json()["lastUpdate"]


async def test_device_choices_carry_over_when_the_device_signs_in(client: AsyncTestClient) -> None:
    await client.post("/v1/accounts", json=sign_up_body("carry@example.com"))
    device = await new_device(client, functional=True, analytics=True)
    await client.get("/v1/consent", headers=with_device(device, {"Sec-GPC": "1"}))
    token = await client.post(
        "/v1/auth/token",
        json={"email": "carry@example.com", "password": sign_up_body("x")["password"]},
        headers=with_device(device),
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    body = (await client.get("/v1/consent", headers=headers)).json()
    assert body["functional"] is True and body["analytics"] is True and body["gpc"] is True
    assert body["marketing"] is False


async def test_an_objection_stops_analytics_at_once_and_can_be_lifted(
    client: AsyncTestClient, stored_rows: RowCounter
) -> None:
    headers = await signed_in(client, "objector@example.com")
    await client.put("/v1/consent", json={**CHOICE_OFF, "analytics": True}, headers=headers)
    assert (await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=headers)).json()["recorded"] == 2
    objected = await client.put("/v1/me/objections", json={"purpose": "analytics", "objected": True}, headers=headers)
    assert objected.json()["objections"][0]["objected"] is True
    dropped = await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=headers)
    assert dropped.json() == {"recorded": 0, "dropped": 2, "reason": "no_consent"}
    await client.put("/v1/me/objections", json={"purpose": "analytics", "objected": False}, headers=headers)
    assert (await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=headers)).json()["recorded"] == 2
    assert await _analytics_rows(stored_rows) == 4
    listed = (await client.get("/v1/me/objections", headers=headers)).json()["objections"]
    assert [(o["purpose"], o["objected"]) for o in listed] == [("analytics", False)]


async def test_objection_input_is_checked(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "objections-input@example.com")
    for purpose in ["provide_service", "comply_with_legal_obligations", "nonsense"]:
        response = await client.put("/v1/me/objections", json={"purpose": purpose, "objected": True}, headers=headers)
        # the schema lists the purposes that can be objected to (an enum): another is refused as the body is decoded
        assert response.status_code == 400 and response.json()["errors"][0]["key"] == "purpose", purpose
    assert (await client.put("/v1/me/objections", json={"purpose": "marketing", "objected": True})).status_code == 401


async def test_analytics_input_is_allow_listed(client: AsyncTestClient, stored_rows: RowCounter) -> None:
    device = await new_device(client, analytics=True)
    bad_batches: list[Any] = [
        {"events": []},
        {"events": [{"name": "purchase", "page": "/x"}]},
        {"events": [{"name": "page_view", "page": "/search?q=my+email@example.com"}]},
        {"events": [{"name": "page_view", "feature": "upscale"}]},
        {"events": [{"name": "feature_used", "feature": "Upscale With Spaces"}]},
        {"events": [{"name": "page_view", "page": "/x", "email": "a@example.com"}]},
        {"events": [{"name": "page_view", "page": "/x"}] * 101},
    ]
    for batch in bad_batches:
        response = await client.post("/v1/analytics/events", json=batch, headers=with_device(device))
        assert response.status_code in (400, 422), batch
    assert await _analytics_rows(stored_rows) == 0


class _RecordingClassifier:
    """The offline classifier, noting every address it is given to look up."""

    def __init__(self) -> None:
        self.inner = OfflineClientClassifier()
        self.looked_up: list[str | None] = []

    def classify(self, truncated_address: str | None, user_agent: str) -> ClientTraits:
        self.looked_up.append(truncated_address)
        return self.inner.classify(truncated_address, user_agent)


async def test_only_the_network_of_the_address_reaches_the_country_lookup(
    uow_factory: Any, tmp_path: Any, logs: Any
) -> None:
    """Section 4: the client's address is cut to its /24 (IPv4) or /48 (IPv6) network before any lookup, and
    neither it nor its network is stored with the event."""
    classifier = _RecordingClassifier()
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    wired = build_container(settings, uow=uow_factory, classifier=classifier, **test_overrides())
    peers = {
        "203.0.113.77": "203.0.113.0",
        "2001:db8:1234:5678:9abc:def0:1234:5678": "2001:db8:1234::",
        "::ffff:198.51.100.9": "198.51.100.0",  # IPv4-mapped: cut as IPv4
    }
    try:
        async with AsyncTestClient(app=app_for(wired)) as client:
            device = await new_device(client, analytics=True)
            for peer in peers:
                transport = httpx.ASGITransport(app=client.app, client=(peer, 4711))
                async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as from_peer:
                    answer = await from_peer.post("/v1/analytics/events", json=PAGE_VIEW, headers=with_device(device))
                assert answer.json()["recorded"] == 2, (peer, answer.text)
        assert classifier.looked_up == list(peers.values())
        events = await _all_events(wired)
        assert len(events) == 2 * len(peers)
        for event in events:
            for peer, network in peers.items():
                assert peer not in repr(event) and network not in repr(event)
    finally:
        await wired.aclose()


async def test_stored_events_hold_no_ip_or_user_agent_and_the_pseudonym_rotates(
    client: AsyncTestClient, container: Container
) -> None:
    device = await new_device(client, analytics=True)
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    headers = with_device(device, {"User-Agent": agent})
    await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=headers)
    assert isinstance(container.infra.clock, MovableClock)
    container.infra.clock.advance(timedelta(days=1))
    await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=headers)
    async with container.infra.uow() as uow:
        today = container.infra.clock.now().date()
        counts = await uow.analytics_events.daily_counts(today - timedelta(days=1), today)
    assert sum(c.count for c in counts) == 4
    events = await _all_events(container)
    assert {e.browser_family for e in events} == {"Firefox"}
    assert {e.device_class for e in events} == {"desktop"}
    assert len({e.pseudonym for e in events}) == 2  # one per day
    for event in events:
        stored = repr(event)
        assert agent not in stored and "testclient" not in stored and device not in stored


async def _all_events(container: Container) -> list[Any]:
    async with container.infra.uow() as uow:
        store: Any = uow.analytics_events
        if hasattr(store, "_table"):
            return [e for _, e in store._table.rows()]
        from sqlalchemy import select

        from dreamina.adapters.sql.models_consent import AnalyticsEventRow

        return list((await store._session.execute(select(AnalyticsEventRow.__table__))).all())


async def test_logs_of_consent_and_analytics_requests_carry_no_identifiers(client: AsyncTestClient, logs: Any) -> None:
    agent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15"
    headers = await signed_in(client, "quiet@example.com")
    device = await new_device(client, analytics=True)
    request_headers = with_device(device, {**headers, "User-Agent": agent, "Sec-GPC": "1"})
    await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=request_headers)
    await client.put("/v1/me/objections", json={"purpose": "marketing", "objected": True}, headers=request_headers)
    await client.get("/v1/consent", headers=request_headers)
    written = logs.getvalue()
    assert '"route"' in written  # the access log did run
    token = headers["Authorization"].split()[1]
    for secret in (device, agent, "quiet@example.com", token, "testclient"):
        assert secret not in written


async def test_the_sweep_deletes_events_past_their_retention_in_batches(
    client: AsyncTestClient, container: Container, stored_rows: RowCounter
) -> None:
    device = await new_device(client, analytics=True)
    assert isinstance(container.infra.clock, MovableClock)
    for _ in range(3):
        await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=with_device(device))
    container.infra.clock.advance(timedelta(days=100))
    await client.post("/v1/analytics/events", json=PAGE_VIEW, headers=with_device(device))
    container.infra.clock.advance(timedelta(days=81))  # the first six are 181 days old, the last two 81
    sweep = RetentionSweep([ExpiredAnalyticsEvents(container.infra.uow)], container.infra.clock, batch_size=4)
    batches: list[int] = []
    reports = await sweep.run(progress=lambda name, done: batches.append(done))
    assert [(r.task, r.due, r.applied) for r in reports] == [("analytics_events.expired", 6, 6)]
    # bounded batches, or on PostgreSQL, when that day has its partition (made ahead by a sweep), the day at once
    assert batches in ([4, 2], [6])
    assert await _analytics_rows(stored_rows) == 2
    everything = await container.privacy.retention.run()  # the whole schedule, analytics included, has nothing left due
    assert len(everything) == len(container.privacy.retention.tasks) and {(r.due, r.applied) for r in everything} == {
        (0, 0)
    }
