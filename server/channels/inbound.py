"""Channel order webhooks: each platform's signature checked on the raw body, its payload read
into an `OrderEvent` (server/channels/orders.py), as each platform documents it:

- shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the body with the app's client
  secret; topics `orders/create` (reserve the `line_items` by `sku` and `quantity`) and
  `orders/cancelled` (release); the delivery id is `X-Shopify-Event-Id` (or
  `X-Shopify-Webhook-Id`);
- woocommerce: `X-WC-Webhook-Signature` = base64 HMAC-SHA256 of the body with the webhook's
  secret; topics `order.created` / `order.updated` (statuses pending, on-hold, processing,
  completed reserve; cancelled, refunded, failed, trash release), `order.deleted` (release);
  the delivery id is `X-WC-Webhook-Delivery-ID`. WooCommerce's ping when a webhook is saved
  (`webhook_id=...`, unsigned) is answered and ignored;
- webhook (Stockwire's own, docs/protocol.md §4 in reverse): `X-Stockwire-Timestamp` and
  `X-Stockwire-Signature: v1=` HMAC-SHA256 over `"<ts>." + body`, within 5 minutes; body
  `{"event": "order.created" | "order.cancelled", "id", "order", "lines": [{"sku", "qty"}]}`.
A bad or missing signature is `BadSignature` (401): nothing of the body is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import orjson

from server.channels import signing
from server.channels.orders import OrderEvent
from server.reservations.service import LineIn
from server.validation import MAX_QTY, check_identifier

MAX_LINES = 500  # an order's line items

_WOO_RESERVE = {"pending", "on-hold", "processing", "completed"}
_WOO_RELEASE = {"cancelled", "refunded", "failed", "trash"}


class BadSignature(Exception):
    """The webhook is not signed with the channel's order secret."""


class BadEvent(Exception):
    """Signed, but not an order event this channel's kind sends."""


def read(kind: str, secret: str, headers: Mapping[str, str], body: bytes) -> OrderEvent:
    """The order event of a webhook from a channel of `kind` whose order secret is `secret`."""
    if not secret:
        raise BadSignature("the channel has no order secret")
    if kind == "shopify":
        return _shopify(secret, headers, body)
    if kind == "woocommerce":
        return _woocommerce(secret, headers, body)
    return _stockwire(secret, headers, body)


def _base64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _json(body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadEvent("the body is not JSON") from None
    if not isinstance(doc, dict):
        raise BadEvent("the body is not a JSON object")
    return doc


def _lines(items: Any, sku: str, qty: str) -> list[LineIn]:
    if not isinstance(items, list) or len(items) > MAX_LINES:
        raise BadEvent(f"line items: a list of at most {MAX_LINES}")
    lines = []
    for item in items:
        if not isinstance(item, dict):
            raise BadEvent("a line item is not an object")
        code, n = item.get(sku), item.get(qty)
        if code is None or code == "":  # a line without a SKU (a tip, a gift card): no stock
            continue
        code = identifier(code, "a line's SKU")
        if type(n) is not int or not 0 < n <= MAX_QTY:
            raise BadEvent(f"line {code!r}: quantity {n!r} (a whole number 1..{MAX_QTY})")
        lines.append(LineIn(code, n))
    return lines


def identifier(value: Any, what: str) -> str:
    """An order id, delivery id or SKU as the ledger keeps identifiers (text of at most 64
    characters, no '/' or control characters), else BadEvent naming it."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # Shopify and WooCommerce number their orders
    if not isinstance(value, str):
        raise BadEvent(f"{what}: text expected")
    try:
        return check_identifier(value)
    except ValueError as exc:
        raise BadEvent(f"{what} {value[:64]!r}: {exc}") from None


def _shopify(secret: str, headers: Mapping[str, str], body: bytes) -> OrderEvent:
    if not _same(headers.get("x-shopify-hmac-sha256", ""), _base64_hmac(secret, body)):
        raise BadSignature("X-Shopify-Hmac-Sha256 does not match")
    topic = headers.get("x-shopify-topic", "")
    key = headers.get("x-shopify-event-id") or headers.get("x-shopify-webhook-id") or ""
    if not key:
        raise BadEvent("no X-Shopify-Event-Id or X-Shopify-Webhook-Id")
    doc = _json(body)
    order = identifier(doc.get("id"), "the order's id")
    if topic == "orders/create":
        return OrderEvent(key, order, "reserve", _lines(doc.get("line_items"), "sku", "quantity"))
    if topic == "orders/cancelled":
        return OrderEvent(key, order, "cancel")
    return OrderEvent(key, order, "ignore", note=f"topic {topic!r}")


def _woocommerce(secret: str, headers: Mapping[str, str], body: bytes) -> OrderEvent:
    signature = headers.get("x-wc-webhook-signature", "")
    if not signature and body.startswith(b"webhook_id="):  # the ping when a webhook is saved
        return OrderEvent("", "", "ignore", note="ping")
    if not _same(signature, _base64_hmac(secret, body)):
        raise BadSignature("X-WC-Webhook-Signature does not match")
    topic = headers.get("x-wc-webhook-topic", "")
    key = headers.get("x-wc-webhook-delivery-id", "")
    if not key:
        raise BadEvent("no X-WC-Webhook-Delivery-ID")
    doc = _json(body)
    order = identifier(doc.get("id"), "the order's id")
    status = str(doc.get("status", ""))
    if topic == "order.deleted" or (topic.startswith("order.") and status in _WOO_RELEASE):
        return OrderEvent(key, order, "cancel")
    if topic in ("order.created", "order.updated") and status in _WOO_RESERVE:
        return OrderEvent(key, order, "reserve", _lines(doc.get("line_items"), "sku", "quantity"))
    return OrderEvent(key, order, "ignore", note=f"topic {topic!r}, status {status!r}")


def _stockwire(secret: str, headers: Mapping[str, str], body: bytes) -> OrderEvent:
    ts = headers.get("x-stockwire-timestamp", "")
    given = headers.get("x-stockwire-signature", "")
    if not signing.verify(secret, ts, body, given, time.time()):
        raise BadSignature("X-Stockwire-Signature does not match, or the timestamp is stale")
    doc = _json(body)
    event = doc.get("event")
    key, order = (
        identifier(doc.get("id"), "the event's id"),
        identifier(doc.get("order"), "the order"),
    )
    if event == "order.created":
        return OrderEvent(key, order, "reserve", _lines(doc.get("lines"), "sku", "qty"))
    if event == "order.cancelled":
        return OrderEvent(key, order, "cancel")
    raise BadEvent(f"event {event!r}: order.created or order.cancelled")
