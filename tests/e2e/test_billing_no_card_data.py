"""G2: every billing endpoint and the webhook, driven with payloads carrying Luhn-valid card numbers; none of them
reaches the database (every table's contents), the object store or the logs."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from sqlalchemy import select

from dreamina.adapters.memory.database import InMemoryDatabase
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.payments import events as signed
from dreamina.adapters.sql.database import Database
from dreamina.adapters.sql.schema import metadata
from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .billing_helpers import balance, pay, sandbox, start_checkout
from .helpers import signed_in

PANS = ["4242424242424242", "4000056655665556", "5555555555554444", "378282246310005", "4012888888881881"]
CVC = "987"
_HEX_DIGEST = re.compile(r"[0-9a-f]{32,}", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def luhn_valid_runs(text: str) -> list[str]:
    """Every run of 13-19 digits (spaces or dashes allowed between them) that passes the Luhn check."""
    found = []
    # A UUID's digit groups joined by dashes, or a digit stretch inside a hex digest (token and email hashes), are
    # not card numbers; the exact test numbers are also searched for in the unfiltered text.
    text = _HEX_DIGEST.sub("<digest>", _UUID.sub("<uuid>", text))
    for match in re.finditer(r"\d(?:[ -]?\d){12,18}", text):
        digits = re.sub(r"\D", "", match.group())
        if signed.luhn_valid(digits):
            found.append(digits)
    return found


def test_the_scanner_finds_card_numbers_and_ignores_uuids() -> None:
    assert luhn_valid_runs("paid with 4242 4242 4242 4242 and 5555-5555-5555-4444") == [PANS[0], PANS[2]]
    assert luhn_valid_runs("id 00818931-5402-6908-1893-154026900000 at 2026-11-25T12:00:00") == []
    assert luhn_valid_runs("sha256 " + "ab" + "0517029688739" + "cd" * 25) == []


async def everything_stored(container: Container, uow_factory: Any) -> str:
    owner = getattr(uow_factory, "__self__", None)
    if isinstance(owner, InMemoryDatabase):
        return repr(vars(owner))  # every table, billing included
    assert isinstance(owner, Database)
    dumped = []
    async with owner.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                dumped.append(repr(tuple(row)))
    return "\n".join(dumped)


async def test_card_numbers_reach_no_store_and_no_log(
    client: AsyncTestClient, container: Container, uow_factory: Any, logs: io.StringIO
) -> None:
    auth = await signed_in(client, "cards@example.com")
    card_headers = {**auth, "X-Card-Number": PANS[2], "Referer": f"https://x.invalid/?pan={PANS[3]}"}

    # JSON endpoints, with card numbers where ids and extra fields go
    await client.post("/v1/billing/checkout", json={"pack_id": PANS[0]}, headers=card_headers)
    await client.post("/v1/billing/checkout", json={"pack_id": "starter", "card": PANS[1], "cvc": CVC}, headers=auth)
    await client.get("/v1/billing/ledger", params={"cursor": PANS[4], "limit": PANS[0]}, headers=card_headers)
    await client.get("/v1/billing/balance", headers=card_headers)
    await client.get("/v1/billing/packs", params={"card": PANS[3]})
    await client.get(f"/v1/billing/checkout/return?outcome={PANS[0]}")
    await client.get(f"/v1/billing/sandbox/checkout/{PANS[1]}")

    # the sandbox page: a declined card, a malformed one, then the paying one
    page = await start_checkout(client, auth)
    assert await pay(client, page, "4000 0000 0000 0002", CVC) == 402
    assert await pay(client, page, PANS[0] + "1", CVC) == 422
    assert await pay(client, page, PANS[1], CVC) == 200
    assert await balance(client, auth) == 140

    # the webhook: a signed event whose payload is stuffed with card data, and unsigned ones
    box = sandbox(container)
    event = json.loads(box.sent[-1][0])
    event["id"] = "evt_with_card_data"
    obj = event["data"]["object"]
    obj["id"] = "cs_test_not_ours"
    obj["payment_method_details"] = {"card": {"number": PANS[2], "cvc": CVC, "last4": PANS[2]}}
    obj["metadata"] = {"note": PANS[3], "pack_id": PANS[4]}
    obj["client_reference_id"] = PANS[4]
    obj["customer"] = PANS[0]
    payload = json.dumps(event).encode()
    header = signed.sign(payload, box._secret, int(container.infra.clock.now().timestamp()))
    handled = await client.post("/v1/billing/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})
    assert handled.status_code == 200
    charge = {
        "id": "evt_charge_with_card",
        "type": "charge.refunded",
        "created": int(container.infra.clock.now().timestamp()),
        "data": {
            "object": {
                "id": "ch_1",
                "payment_intent": PANS[1],
                "amount": 1,
                "amount_refunded": 1,
                "payment_method_details": {"card": {"number": PANS[3], "last4": PANS[3][-4:]}},
            }
        },
    }
    charge_payload = json.dumps(charge).encode()
    charge_header = signed.sign(charge_payload, box._secret, int(container.infra.clock.now().timestamp()))
    refused = await client.post(
        "/v1/billing/webhooks/stripe", content=charge_payload, headers={"Stripe-Signature": charge_header}
    )
    assert refused.status_code in (400, 409)
    event["id"] = "evt_" + PANS[0]  # a card number posing as an id is refused, not stored
    id_payload = json.dumps(event).encode()
    id_header = signed.sign(id_payload, box._secret, int(container.infra.clock.now().timestamp()))
    by_id = await client.post(
        "/v1/billing/webhooks/stripe", content=id_payload, headers={"Stripe-Signature": id_header}
    )
    assert by_id.status_code == 400 and by_id.json()["code"] == "invalid_event"
    unsigned = await client.post("/v1/billing/webhooks/stripe", content=payload, headers={"Stripe-Signature": PANS[0]})
    assert unsigned.status_code == 400

    stored = await everything_stored(container, uow_factory)
    assert "4242" in stored or "5556" in stored  # the card summary (last4) is kept
    assert luhn_valid_runs(stored) == []
    for pan in PANS:
        assert pan not in stored
    assert f"'{CVC}'" not in stored

    assert isinstance(container.infra.object_store, InMemoryObjectStore)
    for key, obj_data in container.infra.object_store.objects.items():
        assert luhn_valid_runs(key + obj_data.data.decode("latin-1")) == []

    text = logs.getvalue()
    assert '"payment_event_handled"' in text and '"sandbox_payment_attempt"' in text
    assert luhn_valid_runs(text) == []
    for pan in PANS:
        assert pan not in text

    for sent_payload, _ in box.sent:  # what the sandbox itself emitted carries no card number either
        assert luhn_valid_runs(sent_payload.decode()) == []
