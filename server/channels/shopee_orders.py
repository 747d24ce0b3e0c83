"""Shopee's order push (its webhooks, "Push Mechanism", code 3: order status update) into
reservations, as Shopee documents it:
- the `Authorization` header is hex HMAC-SHA256 with the partner key over
  `<callback URL>|<raw body>`; the callback URL is the one registered in the Shopee console
  (settings `push_url`; by default this request's own URL);
- the push names the order (`data.ordersn`) and its new `status`, not its items: those are
  read with `v2.order.get_order_detail` (item_list: `model_sku` or `item_sku`,
  `model_quantity_purchased`) using the channel's tokens (refreshed and kept as for pushes);
- UNPAID, READY_TO_SHIP, PROCESSED, RETRY_SHIP reserve (Shopee holds the stock from the order
  on); CANCELLED releases; other codes and statuses are answered and ignored;
- every answer Shopee counts as delivered is a 2xx with an empty body; a failure to read the
  order's items is a 503 (Shopee sends the push again later).
"""

from __future__ import annotations

import hmac
from typing import Any

import httpx
import orjson
from fastapi import Request, Response
from sqlalchemy import Connection, select

from server.channels import orders
from server.channels.adapters import Push
from server.channels.adapters import shopee as api
from server.channels.inbound import BadEvent, identifier
from server.channels.orders import OrderEvent
from server.channels.service import channel_id, save_tokens
from server.db.engine import Database
from server.db.schema import channel_tokens, channels
from server.reservations.service import LineIn
from server.validation import MAX_QTY


def _channel(conn: Connection, name: str) -> tuple[Any, dict[str, Any] | None]:
    row = conn.execute(select(channels).where(channels.c.name == name)).one()
    t = conn.execute(
        select(channel_tokens).where(channel_tokens.c.channel_id == row.id)
    ).one_or_none()
    tokens = None
    if t is not None:
        tokens = {"access_token": t.access_token, "refresh_token": t.refresh_token,
                  "expires_at": int(t.expires_at)}  # fmt: skip
    return row, tokens


async def take_push(
    db: Database, name: str, partner_key: str, request: Request, body: bytes
) -> Response:
    row, tokens = await db.read(_channel, name)
    settings = orjson.loads(row.settings or "{}")
    url = settings.get("push_url") or str(request.url)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), api.push_signature(partner_key, url, body).encode()):
        return _answer(401, {"reason": "bad signature", "detail": "Authorization does not match"})
    try:
        doc = orjson.loads(body)
        data = doc.get("data") or {}
        code, status = doc.get("code"), data.get("status")
        if code != 3:
            return Response(status_code=200)  # not an order status push: nothing to do
        order_sn = identifier(data.get("ordersn"), "the order's ordersn")
    except (orjson.JSONDecodeError, AttributeError):
        return _answer(422, {"reason": "bad order event", "detail": "not a Shopee push"})
    except BadEvent as exc:
        return _answer(422, {"reason": "bad order event", "detail": str(exc)})
    key = f"{order_sn}:{status}:{data.get('update_time', '')}"
    if status in api.RELEASE_STATUSES:
        await db.write(orders.take, name, OrderEvent(key, order_sn, "cancel"))
        return Response(status_code=200)
    if status not in api.RESERVE_STATUSES:
        return Response(status_code=200)
    push = Push(name, row.url, row.secret, settings, "", {}, tokens=tokens)
    async with httpx.AsyncClient(timeout=10) as client:
        items, fresh, error = await api.order_items(client, push, order_sn)
    if fresh and fresh != tokens and fresh.get("expires_at"):
        await db.write(_save, name, fresh)
    if error:
        return _answer(503, {"reason": "order not read", "detail": error})
    try:
        lines = [LineIn(identifier(sku, "a line's SKU"), qty) for sku, qty in items if sku]
    except BadEvent as exc:
        return _answer(422, {"reason": "bad order event", "detail": str(exc)})
    if any(not 0 < qty <= MAX_QTY for _, qty in items):
        return _answer(422, {"reason": "bad order event", "detail": "a line's quantity"})
    await db.write(orders.take, name, OrderEvent(key, order_sn, "reserve", lines))
    return Response(status_code=200)


def _save(conn: Connection, name: str, tokens: dict[str, Any]) -> None:
    save_tokens(conn, channel_id(conn, name), tokens)


def _answer(status: int, doc: dict[str, Any]) -> Response:
    return Response(orjson.dumps(doc), status_code=status, media_type="application/json")
