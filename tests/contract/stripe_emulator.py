"""A loopback emulation of the parts of Stripe's HTTP API the Stripe adapter uses, per Stripe's API reference:

- form-encoded requests with bracketed nested keys, ``Authorization: Bearer sk_...``, ``Idempotency-Key`` replay
  (https://docs.stripe.com/api/idempotent_requests), errors as ``{"error": {"type", "code", "message"}}``
  (https://docs.stripe.com/api/errors);
- ``POST /v1/customers``, ``DELETE /v1/customers/{id}`` (https://docs.stripe.com/api/customers);
- ``POST /v1/checkout/sessions`` (payment mode, ``line_items[][price_data]``) and
  ``POST /v1/checkout/sessions/{id}/expire`` (https://docs.stripe.com/api/checkout/sessions);
- ``GET /v1/payment_intents/{id}`` with ``expand[]=latest_charge`` (https://docs.stripe.com/api/payment_intents);
- ``POST /v1/refunds`` (https://docs.stripe.com/api/refunds);
- events ``checkout.session.completed|expired|async_payment_succeeded|async_payment_failed``, ``charge.refunded``,
  ``charge.dispute.created|closed`` signed as https://docs.stripe.com/webhooks#verify-manually describes.

``pay`` and ``dispute`` stand in for the buyer on Stripe's hosted page and for the card network; ``pay_by_debit``
and ``settle_debit`` for a delayed method (SEPA Direct Debit: the session completes ``unpaid``, the bank answers
later, https://docs.stripe.com/checkout/fulfillment), ``close_dispute`` for the network's decision.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dreamina.adapters.payments import events

API_KEY = "sk_test_emulated"
DECLINED = {"4000000000000002"}


class StripeEmulator:
    def __init__(self, webhook_secret: str, now: Callable[[], int]) -> None:
        self.webhook_secret = webhook_secret
        self.now = now
        self.lock = threading.Lock()
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.disputes: dict[str, dict[str, Any]] = {}
        self.debits: dict[str, str] = {}  # session id -> the IBAN it is paid from, until the bank answers
        self.idempotent: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.sent: list[tuple[bytes, str]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, form (for assertions)
        self.base_url = ""

    # -- the buyer and the network ----------------------------------------------------------------------------------

    def pay(self, session_id: str, number: str) -> bool:
        with self.lock:
            session = self.sessions[session_id]
            if session["status"] != "open" or not events.luhn_valid(number) or number in DECLINED:
                return False
            charge_id, intent_id = events.new_id("ch"), events.new_id("pi")
            charge = {
                "id": charge_id,
                "object": "charge",
                "amount": session["amount_total"],
                "amount_refunded": 0,
                "currency": session["currency"],
                "customer": session["customer"],
                "payment_intent": intent_id,
                "paid": True,
                "status": "succeeded",
                "payment_method_details": {
                    "type": "card",
                    "card": {
                        "brand": events.card_brand(number),
                        "last4": number[-4:],
                        "exp_month": 12,
                        "exp_year": 2031,
                        "funding": "credit",
                        "country": "US",
                    },
                },
            }
            self.charges[charge_id] = charge
            self.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "currency": session["currency"],
                "customer": session["customer"],
                "status": "succeeded",
                "latest_charge": charge_id,
            }
            session.update(status="complete", payment_status="paid", payment_intent=intent_id)
            self._emit("checkout.session.completed", dict(session))
        return True

    def pay_by_debit(self, session_id: str, iban: str) -> None:
        """The buyer authorises a SEPA debit: the session completes with the payment still processing."""
        with self.lock:
            session = self.sessions[session_id]
            assert session["status"] == "open" and iban in events.SEPA_TEST_IBANS
            intent_id = events.new_id("pi")
            self.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "currency": session["currency"],
                "customer": session["customer"],
                "status": "processing",
                "latest_charge": None,
            }
            self.debits[session_id] = iban
            session.update(status="complete", payment_status="unpaid", payment_intent=intent_id)
            self._emit("checkout.session.completed", dict(session))

    def settle_debit(self, session_id: str) -> None:
        """The bank answers: the test IBAN decides whether the debit succeeded."""
        with self.lock:
            session = self.sessions[session_id]
            intent = self.intents[session["payment_intent"]]
            if self.debits.pop(session_id) == events.SEPA_TEST_IBANS[0]:
                charge_id = events.new_id("py")
                self.charges[charge_id] = {
                    "id": charge_id,
                    "object": "charge",
                    "amount": session["amount_total"],
                    "amount_refunded": 0,
                    "currency": session["currency"],
                    "customer": session["customer"],
                    "payment_intent": intent["id"],
                    "paid": True,
                    "status": "succeeded",
                    "payment_method_details": {"type": "sepa_debit", "sepa_debit": {"last4": "3000"}},
                }
                intent.update(status="succeeded", latest_charge=charge_id)
                session["payment_status"] = "paid"
                self._emit("checkout.session.async_payment_succeeded", dict(session))
            else:
                intent["status"] = "requires_payment_method"
                self._emit("checkout.session.async_payment_failed", dict(session))

    def dispute(self, intent_id: str, amount: int | None) -> None:
        with self.lock:
            charge = self.charges[self.intents[intent_id]["latest_charge"]]
            dispute = {
                "id": events.new_id("dp"),
                "object": "dispute",
                "amount": charge["amount"] if amount is None else amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": intent_id,
                "reason": "fraudulent",
                "status": "needs_response",
            }
            self.disputes[dispute["id"]] = dispute
            self._emit("charge.dispute.created", dict(dispute))

    def close_dispute(self, dispute_id: str, status: str) -> None:
        """The card network decides (``won`` or ``lost``): ``charge.dispute.closed``."""
        with self.lock:
            dispute = self.disputes[dispute_id]
            dispute["status"] = status
            self._emit("charge.dispute.closed", dict(dispute))

    def _emit(self, event_type: str, obj: dict[str, Any]) -> None:
        created = self.now()
        payload = events.envelope(event_type, obj, created)
        self.sent.append((payload, events.sign(payload, self.webhook_secret, created)))

    # -- the API -------------------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, _error("invalid_request_error", None, "Invalid API Key provided")
        url = urlsplit(target)
        form = dict(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
        query = dict(parse_qsl(url.query))
        self.requests.append((method, url.path, form))
        parts = url.path.strip("/").split("/")
        with self.lock:
            if method == "POST" and parts == ["v1", "customers"]:
                customer = {
                    "id": events.new_id("cus"),
                    "object": "customer",
                    "email": form.get("email"),
                    "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                }
                self.customers[customer["id"]] = customer
                return 200, customer
            if method == "DELETE" and parts[:2] == ["v1", "customers"] and len(parts) == 3:
                if self.customers.pop(parts[2], None) is None:
                    return 404, _error("invalid_request_error", "resource_missing", f"No such customer: '{parts[2]}'")
                return 200, {"id": parts[2], "object": "customer", "deleted": True}
            if method == "POST" and parts == ["v1", "checkout", "sessions"]:
                return self._create_session(form)
            if method == "POST" and parts[:3] == ["v1", "checkout", "sessions"] and parts[4:] == ["expire"]:
                session = self.sessions.get(parts[3])
                if session is None:
                    return 404, _error("invalid_request_error", "resource_missing", "No such checkout.session")
                if session["status"] != "open":
                    return 400, _error(
                        "invalid_request_error", None, "Only Checkout Sessions with a status of open can be expired."
                    )
                session["status"] = "expired"
                self._emit("checkout.session.expired", dict(session))
                return 200, session
            if method == "GET" and parts[:2] == ["v1", "payment_intents"] and len(parts) == 3:
                intent = self.intents.get(parts[2])
                if intent is None:
                    return 404, _error("invalid_request_error", "resource_missing", "No such payment_intent")
                shown = dict(intent)
                if query.get("expand[0]") == "latest_charge":
                    shown["latest_charge"] = self.charges.get(intent["latest_charge"] or "")
                return 200, shown
            if method == "POST" and parts == ["v1", "refunds"]:
                return self._refund(form)
        return 404, _error("invalid_request_error", None, f"Unrecognized request URL ({method}: {url.path})")

    def _create_session(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("mode") != "payment" or "success_url" not in form:
            return 400, _error("invalid_request_error", "parameter_missing", "mode=payment and success_url required")
        price = "line_items[0][price_data]"
        try:
            amount, quantity = int(form[f"{price}[unit_amount]"]), int(form["line_items[0][quantity]"])
            currency, name = form[f"{price}[currency]"], form[f"{price}[product_data][name]"]
        except (KeyError, ValueError):
            return 400, _error("invalid_request_error", "parameter_invalid", "line_items[0] needs price_data")
        customer = form.get("customer")
        if customer is not None and customer not in self.customers:
            return 400, _error("invalid_request_error", "resource_missing", f"No such customer: '{customer}'")
        session_id = events.new_id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "amount_total": amount * quantity,
            "currency": currency,
            "customer": customer,
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": form["success_url"],
            "cancel_url": form.get("cancel_url"),
            "url": f"{self.base_url}/c/pay/{session_id}",
            "expires_at": self.now() + 24 * 3600,
            "line_items_name": name,
        }
        self.sessions[session_id] = session
        return 200, session

    def _refund(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return 400, _error("invalid_request_error", "resource_missing", "No such payment_intent")
        charge = self.charges[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(form["amount"]) if "amount" in form else left
        if not 0 < amount <= left:
            return 400, _error(
                "invalid_request_error", "amount_too_large", "Refund amount is greater than unrefunded amount"
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", dict(charge))
        return 200, {
            "id": events.new_id("re"),
            "object": "refund",
            "amount": amount,
            "status": "succeeded",
            "payment_intent": intent["id"],
            "charge": charge["id"],
        }


def _error(kind: str, code: str | None, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message}}


@contextmanager
def running_stripe_emulator(webhook_secret: str, now: Callable[[], int]) -> Iterator[StripeEmulator]:
    emulator = StripeEmulator(webhook_secret, now)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            key = self.headers.get("Idempotency-Key")
            if key and (self.path, key) in emulator.idempotent:
                status, raw = emulator.idempotent[(self.path, key)]
            else:
                status, payload = emulator.handle(self.command, self.path, self.headers, body)
                raw = json.dumps(payload).encode()
                if key and status < 500:
                    emulator.idempotent[(self.path, key)] = (status, raw)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Request-Id", "req_emulated")
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    emulator.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield emulator
    finally:
        server.shutdown()
        server.server_close()
