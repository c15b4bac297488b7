"""Shared steps of the billing HTTP tests."""

from __future__ import annotations

from urllib.parse import urlsplit

from dreamina.adapters.payments.sandbox import LocalPaymentSandbox
from dreamina.bootstrap import BillingModule, Container
from tests.http_client import AsyncTestClient


def billing(container: Container) -> BillingModule:
    assert container.billing is not None
    return container.billing


def sandbox(container: Container) -> LocalPaymentSandbox:
    processor = billing(container).processor
    assert isinstance(processor, LocalPaymentSandbox)
    return processor


async def balance(client: AsyncTestClient, auth: dict[str, str]) -> int:
    answer = await client.get("/v1/billing/balance", headers=auth)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["credits"])


async def start_checkout(client: AsyncTestClient, auth: dict[str, str], pack_id: str = "starter") -> str:
    """POST /v1/billing/checkout; returns the path of the sandbox page to pay on."""
    started = await client.post("/v1/billing/checkout", json={"pack_id": pack_id}, headers=auth)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["session_id"] in body["checkout_url"]
    return urlsplit(body["checkout_url"]).path


async def pay(client: AsyncTestClient, page: str, number: str, cvc: str = "123") -> int:
    answer = await client.post(page, data={"number": number, "exp_month": "12", "exp_year": "2031", "cvc": cvc})
    return answer.status_code
