"""Shopee, through the Open Platform API v2 (a marketplace: the seller's own stock).

A SKU's `seller_stock` is set with `v2.product.update_stock` (one item a call, its models in
it), as Shopee documents it:
- every call carries the common parameters `partner_id`, `timestamp`, `access_token`,
  `shop_id` and `sign` = hex HMAC-SHA256 with the partner key over
  `partner_id + api path + timestamp + access_token + shop_id` (a shop API); a request more
  than 5 minutes from its timestamp is refused, so the clock matters;
- the access token lives 4 hours: it is refreshed with `v2.public` `auth/access_token/get`
  (a public API, signed over `partner_id + path + timestamp`) before it runs out, or once
  after an `error_auth`/`invalid_access_token` answer; Shopee answers a new refresh token each
  time, and both are kept (table channel_tokens) for the next push;
- the SKU is found once: `v2.product.search_item` by `item_sku`, then
  `v2.product.get_model_list` for a model with that `model_sku` (an item without models is
  model 0); the ids are kept as `item:<item_id>:<model_id>`;
- a failure is Shopee's `error`/`message` (or the model's `failed_reason`); HTTP 429 or an
  `error` about too many requests pauses the channel.
The channel: `url` the API host (https://partner.shopeemobile.com), `secret` the partner key,
settings `partner_id`, `shop_id` and optionally `location_id` (a multi-warehouse seller's).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from server.channels.adapters import OneAtATime, Outcome, Push, Stop, retry_after

_REFRESH_AHEAD_S = 300  # refresh a token that has less than this left
_AUTH_ERRORS = ("error_auth", "invalid_access_token", "invalid_acceess_token")


class _Expired(Exception):
    """Shopee no longer takes the access token."""


def sign(partner_key: str, *parts: object) -> str:
    base = "".join(str(p) for p in parts)
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


class Shopee(OneAtATime):
    async def push(self, client: httpx.AsyncClient, push: Push) -> Outcome:
        remote = push.remote_id

        async def work(tokens: dict[str, Any]) -> None:
            nonlocal remote
            if remote is None:
                remote = await _find(client, push, tokens)
            await _update(client, push, tokens, remote)

        tokens = dict(push.tokens or {})
        try:
            await _authorized(client, push, tokens, work)
        except Stop as stop:  # tokens refreshed before the failure are kept all the same
            o = stop.outcome
            return Outcome(o.error, o.retry_after, remote, None, o.forget_remote, tokens)
        return Outcome(remote_id=remote, remote_qty=push.available, tokens=tokens)


async def _authorized(
    client: httpx.AsyncClient,
    push: Push,
    tokens: dict[str, Any],
    work: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Run `work(tokens)` with a live access token: refreshed first when it has less than
    _REFRESH_AHEAD_S left, and once more when Shopee refuses it. `tokens` is updated in place
    (the caller keeps the new ones, even when Stop follows: the old refresh token is spent);
    Stop when there are none or Shopee refuses."""
    if not tokens.get("refresh_token"):
        raise Stop(Outcome("no Shopee tokens: PUT /v1/channels/<name>/tokens first"))
    for attempt in range(2):
        try:
            if float(tokens.get("expires_at", 0)) - time.time() < _REFRESH_AHEAD_S:
                tokens.update(await _refresh(client, push, tokens))
            await work(tokens)
            return
        except _Expired:
            if attempt:
                raise Stop(Outcome("Shopee refused the refreshed token")) from None
            tokens["expires_at"] = 0  # refresh, then once more


async def _refresh(client: httpx.AsyncClient, push: Push, tokens: dict[str, Any]) -> dict[str, Any]:
    path = "/api/v2/auth/access_token/get"
    partner = int(push.settings["partner_id"])
    ts = int(time.time())
    params = {"partner_id": partner, "timestamp": ts, "sign": sign(push.secret, partner, path, ts)}
    body = {
        "refresh_token": tokens["refresh_token"],
        "partner_id": partner,
        "shop_id": int(push.settings["shop_id"]),
    }
    doc = await _send(client, push, "POST", path, params, body)
    if doc.get("error"):
        raise Stop(Outcome(f"Shopee token refresh: {doc.get('error')}: {doc.get('message')}"))
    return {
        "access_token": doc["access_token"],
        "refresh_token": doc["refresh_token"],
        "expires_at": int(time.time()) + int(doc.get("expire_in", 14400)),
    }


async def _shop_call(
    client: httpx.AsyncClient,
    push: Push,
    tokens: dict[str, Any],
    method: str,
    path: str,
    query: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    partner, shop = int(push.settings["partner_id"]), int(push.settings["shop_id"])
    ts = int(time.time())
    token = tokens["access_token"]
    params = {
        "partner_id": partner,
        "timestamp": ts,
        "access_token": token,
        "shop_id": shop,
        "sign": sign(push.secret, partner, path, ts, token, shop),
    } | (query or {})
    doc = await _send(client, push, method, path, params, body)
    error = str(doc.get("error") or "")
    if error in _AUTH_ERRORS:
        raise _Expired
    if "too_many" in error or "rate_limit" in error:
        raise Stop(Outcome(f"Shopee rate limit: {error}", retry_after=1.0))
    if error:
        raise Stop(Outcome(f"Shopee refused: {error}: {doc.get('message')}"))
    return dict(doc.get("response") or {})


async def _send(
    client: httpx.AsyncClient,
    push: Push,
    method: str,
    path: str,
    params: dict[str, Any],
    body: dict[str, Any] | None,
) -> dict[str, Any]:
    url = push.url.rstrip("/") + path
    try:
        response = await client.request(method, url, params=params, json=body)
    except httpx.HTTPError as exc:
        raise Stop(Outcome(f"{type(exc).__name__}: {exc}")) from None
    if response.status_code == 429:
        wait = retry_after(response)
        raise Stop(Outcome(f"HTTP 429: rate limited for {wait:g} s", retry_after=wait))
    try:
        doc = response.json()
    except ValueError:
        raise Stop(Outcome(f"HTTP {response.status_code}: {response.text[:200]}")) from None
    if not isinstance(doc, dict):
        raise Stop(Outcome(f"HTTP {response.status_code}: not a JSON object"))
    return doc


async def _find(client: httpx.AsyncClient, push: Push, tokens: dict[str, Any]) -> str:
    found = await _shop_call(
        client, push, tokens, "GET", "/api/v2/product/search_item",
        {"item_sku": push.sku, "page_size": 10, "offset": 0},
    )  # fmt: skip
    matches = []
    for item_id in found.get("item_id_list") or []:
        models = await _shop_call(
            client, push, tokens, "GET", "/api/v2/product/get_model_list", {"item_id": item_id}
        )
        listed = models.get("model") or []
        if not listed:
            matches.append(f"item:{item_id}:0")
        matches += [
            f"item:{item_id}:{m['model_id']}" for m in listed if m.get("model_sku") == push.sku
        ]
    if len(matches) != 1:
        found_words = "no" if not matches else "more than one"
        raise Stop(Outcome(f"{found_words} Shopee item or model with SKU {push.sku!r}"))
    return matches[0]


async def _update(
    client: httpx.AsyncClient, push: Push, tokens: dict[str, Any], remote: str
) -> None:
    _, item_id, model_id = remote.split(":")
    stock: dict[str, Any] = {"stock": push.available}
    if push.settings.get("location_id"):
        stock["location_id"] = push.settings["location_id"]
    entry: dict[str, Any] = {"seller_stock": [stock]}
    if int(model_id):
        entry["model_id"] = int(model_id)
    body = {"item_id": int(item_id), "stock_list": [entry]}
    answer = await _shop_call(
        client, push, tokens, "POST", "/api/v2/product/update_stock", None, body
    )
    failed = answer.get("failure_list") or []
    if failed:
        reason = "; ".join(str(f.get("failed_reason")) for f in failed)
        raise Stop(
            Outcome(f"Shopee refused the stock: {reason}", forget_remote="not exist" in reason)
        )


# ---- orders in (the push mechanism) ---------------------------------------------------------

RESERVE_STATUSES = {"UNPAID", "READY_TO_SHIP", "PROCESSED", "RETRY_SHIP"}
RELEASE_STATUSES = {"CANCELLED"}


def push_signature(partner_key: str, callback_url: str, body: bytes) -> str:
    """The `Authorization` of a Shopee push: hex HMAC-SHA256 over `callback URL|body`."""
    base = callback_url.encode() + b"|" + body
    return hmac.new(partner_key.encode(), base, hashlib.sha256).hexdigest()


async def order_items(
    client: httpx.AsyncClient, push: Push, order_sn: str
) -> tuple[list[tuple[str, int]], dict[str, Any], str]:
    """(sku, quantity) of an order's items (`v2.order.get_order_detail`), the tokens (maybe
    refreshed), and "" or why they could not be read."""
    query = {"order_sn_list": order_sn, "response_optional_fields": "item_list"}
    detail: dict[str, Any] = {}

    async def work(tokens: dict[str, Any]) -> None:
        path = "/api/v2/order/get_order_detail"
        detail.update(await _shop_call(client, push, tokens, "GET", path, query))

    tokens = dict(push.tokens or {})
    try:
        await _authorized(client, push, tokens, work)
    except Stop as stop:
        return [], tokens, stop.outcome.error
    items = []
    for order in detail.get("order_list") or []:
        for item in order.get("item_list") or []:
            sku = item.get("model_sku") or item.get("item_sku")
            items.append((str(sku or ""), int(item.get("model_quantity_purchased") or 0)))
    return items, tokens, ""
