"""Stripe-shaped webhook events: signing, verification and parsing, shared by every payment adapter.

Signatures follow Stripe's documented scheme (https://docs.stripe.com/webhooks#verify-manually): the
``Stripe-Signature`` header is ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the endpoint
secret>``; a delivery is accepted when one ``v1`` matches (constant-time compare) and ``t`` is within the
tolerance of our clock. Parsing keeps only the fields billing acts on (see the event objects at
https://docs.stripe.com/api/events/types, https://docs.stripe.com/api/checkout/sessions/object,
https://docs.stripe.com/api/charges/object and https://docs.stripe.com/api/disputes/object); everything else in
the payload, including any payment-method object, is dropped on the spot.

Delayed payment methods (SEPA Direct Debit and the like, https://docs.stripe.com/checkout/fulfillment): the session's
``checkout.session.completed`` arrives with ``payment_status: unpaid``, then days later
``checkout.session.async_payment_succeeded`` (``paid``) or ``checkout.session.async_payment_failed`` (``unpaid``),
each carrying the Checkout Session object. Disputes (https://docs.stripe.com/disputes/how-disputes-work): the
Dispute object arrives in ``charge.dispute.created`` and, once decided, in ``charge.dispute.closed`` whose
``status`` is ``won``, ``lost`` or ``warning_closed`` (an inquiry that closed without a chargeback).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import string
from datetime import UTC, datetime
from typing import Any

from dreamina.domain.billing.errors import InvalidEvent, InvalidSignature
from dreamina.ports.payments import CardSummary, ProcessorEvent

_ID = re.compile(r"^[a-z]{2,10}_[A-Za-z0-9_]{1,250}$")  # Stripe's ids: a type prefix, then random characters
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_LONG_DIGITS = re.compile(r"[0-9]{12}")  # a run this long could be a card number: never an id of ours
_TYPE = re.compile(r"^[a-z_.]{1,80}$")
_LAST4 = re.compile(r"^[0-9]{4}$")
_BRAND = re.compile(r"^[a-z_ ]{1,20}$")
_CURRENCY = re.compile(r"^[a-z]{3}$")
MAX_PAYLOAD = 256 * 1024
# Stripe's documented SEPA Direct Debit test IBANs (https://docs.stripe.com/testing#sepa-direct-debit): the first
# settles (async_payment_succeeded), the second fails (async_payment_failed). The sandbox and the emulation use them.
SEPA_TEST_IBANS = ("DE89370400440532013000", "DE62370400440532013001")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header for ``payload`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(payload: bytes, header: str | None, secret: str, now: datetime, tolerance_seconds: int) -> None:
    """Raise ``InvalidSignature`` unless ``header`` signs ``payload`` with ``secret`` within the tolerance."""
    if not header or not secret or len(header) > 2048 or len(payload) > MAX_PAYLOAD:
        raise InvalidSignature("missing or malformed Stripe-Signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("missing or malformed Stripe-Signature header")
    expected = sign(payload, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected.encode(), c.encode("ascii", "replace")) for c in candidates):
        raise InvalidSignature("the signature does not match the payload")
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise InvalidSignature("the signature's timestamp is outside the tolerance")


_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A Stripe-like id: ``<prefix>_`` and 24 random letters and digits."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def _text(value: Any, pattern: re.Pattern[str] = _ID) -> str | None:
    if not isinstance(value, str) or not pattern.match(value) or _LONG_DIGITS.search(value):
        return None
    return value


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12 else None


def _ref(value: Any) -> str | None:
    """An id field that Stripe may have expanded into an object."""
    if isinstance(value, dict):
        value = value.get("id")
    return _text(value)


def card_from_details(details: Any) -> CardSummary | None:
    card = details.get("card") if isinstance(details, dict) else None
    if not isinstance(card, dict):
        return None
    month, year = _int(card.get("exp_month")), _int(card.get("exp_year"))
    return CardSummary(
        brand=_text(card.get("brand"), _BRAND),
        last4=_text(card.get("last4"), _LAST4),
        exp_month=month if month is not None and 1 <= month <= 12 else None,
        exp_year=year if year is not None and 2000 <= year <= 2200 else None,
    )


def parse(payload: bytes) -> ProcessorEvent:
    """Reduce a verified event payload to a :class:`ProcessorEvent`; ``InvalidEvent`` if it is not one."""
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise InvalidEvent("the event is not JSON") from None
    if not isinstance(event, dict):
        raise InvalidEvent("the event is not an object")
    event_id, event_type, created = _text(event.get("id")), _text(event.get("type"), _TYPE), _int(event.get("created"))
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if event_id is None or event_type is None or created is None or not isinstance(obj, dict):
        raise InvalidEvent("the event lacks an id, type, creation time or object")
    object_id = _text(obj.get("id"))
    if object_id is None:
        raise InvalidEvent("the event's object has no id")
    currency = _text(obj.get("currency"), _CURRENCY)
    common: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "created": datetime.fromtimestamp(created, UTC),
        "object_id": object_id,
        "currency": currency,
        "customer_id": _ref(obj.get("customer")),
        "payment_intent_id": _ref(obj.get("payment_intent")),
    }
    if event_type.startswith("checkout.session."):
        return ProcessorEvent(
            **common,
            session_id=object_id,
            client_reference_id=_text(obj.get("client_reference_id"), _REFERENCE),
            payment_status=_text(obj.get("payment_status"), _TYPE),
            amount=_int(obj.get("amount_total")),
        )
    if event_type.startswith("charge.dispute."):
        return ProcessorEvent(**common, amount=_int(obj.get("amount")), status=_text(obj.get("status"), _TYPE))
    if event_type.startswith("charge."):
        return ProcessorEvent(
            **common,
            amount=_int(obj.get("amount")),
            amount_refunded=_int(obj.get("amount_refunded")),
            card=card_from_details(obj.get("payment_method_details")),
        )
    return ProcessorEvent(**common)


def envelope(event_type: str, obj: dict[str, Any], created: int) -> bytes:
    """A Stripe-shaped event (``object: event``, API version, ``data.object``) as its JSON body."""
    return json.dumps(
        {
            "id": new_id("evt"),
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": created,
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": obj},
        },
        separators=(",", ":"),
    ).encode()


def card_brand(number: str) -> str:
    """The brand a card number's leading digits name (the number itself is not kept)."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0
