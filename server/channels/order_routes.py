"""`POST /v1/channels/{name}/orders`: a sales channel's order webhooks (no bearer token: the
platform signs each one with the channel's order secret, server/channels/inbound.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, select

from server.channels import inbound, orders, shopee_orders
from server.db.schema import channels
from server.deps import DbDep
from server.openapi import example
from server.validation import IdentifierPath

router = APIRouter()
_TAKEN = {
    "channel": "shopify-eu",
    "order": "shopify-eu:820982911946154508",
    "event": "5a7b2c4e-1f0d-4e8a-9c3b-6d2e1f0a9b8c",
    "status": "oversold",
    "short": [{"sku": "PHC-01", "qty": 3, "short": 1}],
    "unknown_skus": [],
}
_BODY = {
    "event": "order.created",
    "id": "evt-000183",
    "order": "SO-1001",
    "lines": [{"sku": "PHC-01", "qty": 3}],
}


def _channel(conn: Connection, name: str) -> tuple[str, str] | None:
    row = conn.execute(
        select(channels.c.kind, channels.c.secret, channels.c.order_secret).where(
            channels.c.name == name
        )
    ).one_or_none()
    if row is None:
        return None
    secret = row.order_secret or (row.secret if row.kind in ("webhook", "shopee") else "")
    return str(row.kind), str(secret)


@router.post(
    "/v1/channels/{name}/orders",
    responses=example(_TAKEN),
    openapi_extra={"requestBody": {"content": {"application/json": {"example": _BODY}}}},
)
async def post_order(name: IdentifierPath, request: Request, db: DbDep) -> Any:
    """Take a channel's order webhook: reserve the order, or release it when cancelled.

    No token: the body must be signed with the channel's order secret as its platform does
    (Shopify `X-Shopify-Hmac-Sha256`, WooCommerce `X-WC-Webhook-Signature`, Shopee's push
    `Authorization`, Stockwire's own `X-Stockwire-Signature`; docs/channels.md, "Orders in"),
    else 401 `bad signature`. Shopee's push is answered 200 with an empty body, as it asks. Each
    delivery is taken once (`duplicate` after). What the ledger does not have is still sold:
    the order holds what there is and the rest is an oversell (`status: oversold`, `short`)."""
    body = await request.body()
    found = await db.read(_channel, name)
    if found is None:  # said as a bad signature: the channels are not listed to strangers
        return _refused(401, "bad signature", "unknown channel or wrong secret")
    kind, secret = found
    if kind == "shopee":
        return await shopee_orders.take_push(db, name, secret, request, body)
    try:
        event = inbound.read(kind, secret, request.headers, body)
    except inbound.BadSignature as exc:
        return _refused(401, "bad signature", str(exc))
    except inbound.BadEvent as exc:
        return _refused(422, "bad order event", str(exc))
    return await db.write(orders.take, name, event)


def _refused(status: int, reason: str, detail: str) -> JSONResponse:
    return JSONResponse({"reason": reason, "detail": detail}, status_code=status)
