"""Shopify, through the Admin GraphQL API (version `api_version`, default 2026-10).

A SKU's `available` quantity at the channel's Shopify location is set with
`inventorySetQuantities`, as Shopify documents it for a system that is the source of truth:
- compare-and-set: each quantity carries `changeFromQuantity`, the quantity we expect Shopify
  to hold (the one we last read or set). If it changed there meanwhile (an order on Shopify),
  the answer is `CHANGE_FROM_QUANTITY_STALE`: we read the level again and set once more;
- idempotent: the mutation carries `@idempotent(key:)` (required since 2026-04), a key made
  from channel, SKU, version and the expected quantity, so a retried request is applied once;
- the SKU is found once with `productVariants(query: "sku:...")` and its InventoryItem id kept
  (`channel_skus.remote_id`);
- rate limits: the GraphQL cost bucket (a `THROTTLED` error; we wait until the bucket holds
  the request's cost again, from `extensions.cost.throttleStatus`), and HTTP 429 Retry-After.
Authentication: the `X-Shopify-Access-Token` header (the channel's secret).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from server.channels.adapters import OneAtATime, Outcome, Push, Stop, retry_after

API_VERSION = "2026-10"
_NAMESPACE = uuid.UUID("5b0c6f9e-2f8e-4d0e-9a53-7d0c3e1b2a41")  # Stockwire's idempotency keys
_TRIES = 3  # sets per push: the first, and a re-read and set after each stale answer

_LEVEL_FIELDS = 'inventoryLevel(locationId: $loc) { quantities(names: ["available"]) { quantity } }'
FIND = (
    "query StockwireFindVariant($q: String!, $loc: ID!) { productVariants(first: 2, query: $q) "
    "{ nodes { sku inventoryItem { id " + _LEVEL_FIELDS + " } } } }"
)
LEVEL = (
    "query StockwireLevel($item: ID!, $loc: ID!) { inventoryItem(id: $item) { "
    + _LEVEL_FIELDS
    + " } }"
)
SET = (
    "mutation StockwireSetAvailable($input: InventorySetQuantitiesInput!, $key: String!) { "
    "inventorySetQuantities(input: $input) @idempotent(key: $key) { "
    "inventoryAdjustmentGroup { reason } userErrors { code field message } } }"
)


class Shopify(OneAtATime):
    async def push(self, client: httpx.AsyncClient, push: Push) -> Outcome:
        item, known = push.remote_id, push.remote_qty
        try:
            if item is None:
                item, known = await self._find(client, push)
            for _ in range(_TRIES):
                if await self._set(client, push, item, known):
                    return Outcome(remote_id=item, remote_qty=push.available)
                known = await self._level(client, push, item)  # changed on Shopify: re-read
        except Stop as stop:
            o = stop.outcome
            return Outcome(
                o.error, o.retry_after, o.remote_id or item, o.remote_qty, o.forget_remote
            )
        return Outcome(f"still stale after {_TRIES} tries", remote_id=item, remote_qty=known)

    async def _find(self, client: httpx.AsyncClient, push: Push) -> tuple[str, int | None]:
        q = 'sku:"' + push.sku.replace('"', '\\"') + '"'
        data = await _call(client, push, FIND, {"q": q, "loc": _location(push)})
        nodes = [n for n in data["productVariants"]["nodes"] if n.get("sku") == push.sku]
        if len(nodes) != 1:
            found = "no" if not nodes else "more than one"
            raise Stop(Outcome(f"{found} Shopify variant with SKU {push.sku!r}"))
        item = nodes[0]["inventoryItem"]
        return item["id"], _available(item)

    async def _level(self, client: httpx.AsyncClient, push: Push, item: str) -> int | None:
        data = await _call(client, push, LEVEL, {"item": item, "loc": _location(push)})
        if data.get("inventoryItem") is None:
            raise Stop(Outcome(f"Shopify has no inventory item {item}", forget_remote=True))
        return _available(data["inventoryItem"])

    async def _set(
        self, client: httpx.AsyncClient, push: Push, item: str, known: int | None
    ) -> bool:
        """True when set; False when Shopify's quantity was not `known` (stale)."""
        quantity = {
            "inventoryItemId": item,
            "locationId": _location(push),
            "quantity": push.available,
            "changeFromQuantity": known,  # null: not stocked there yet, nothing to compare
        }
        variables = {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": f"logistics://stockwire/{push.channel}/{push.sku}"
                f"/v{push.version}",
                "quantities": [quantity],
            },
            "key": str(uuid.uuid5(_NAMESPACE, f"{push.channel}|{push.sku}|{push.version}|{known}")),
        }
        data = await _call(client, push, SET, variables)
        errors = data["inventorySetQuantities"]["userErrors"]
        if any(e.get("code") == "CHANGE_FROM_QUANTITY_STALE" for e in errors):
            return False
        if errors:
            text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
            raise Stop(Outcome(f"Shopify refused: {text}", remote_id=item, remote_qty=known))
        return True


def _location(push: Push) -> str:
    return str(push.settings["location_id"])


def _available(item: dict[str, Any]) -> int | None:
    level = item.get("inventoryLevel")
    if not level:
        return None  # not stocked at the location
    return next((int(q["quantity"]) for q in level["quantities"]), None)


async def _call(
    client: httpx.AsyncClient, push: Push, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    version = push.settings.get("api_version", API_VERSION)
    url = f"{push.url.rstrip('/')}/admin/api/{version}/graphql.json"
    headers = {"X-Shopify-Access-Token": push.secret, "Content-Type": "application/json"}
    try:
        body = {"query": query, "variables": variables}
        response = await client.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise Stop(Outcome(f"{type(exc).__name__}: {exc}")) from None
    if response.status_code == 429:
        wait = retry_after(response, 2.0)
        raise Stop(Outcome(f"HTTP 429: rate limited for {wait:g} s", retry_after=wait))
    if not response.is_success:
        raise Stop(Outcome(f"HTTP {response.status_code}: {response.text[:200]}"))
    try:
        doc = response.json()
    except ValueError:
        raise Stop(Outcome(f"not JSON: {response.text[:200]}")) from None
    errors = doc.get("errors") or []
    if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
        wait = _throttle_wait(doc.get("extensions") or {})
        raise Stop(Outcome(f"throttled by Shopify for {wait:.1f} s", retry_after=wait))
    if errors or not isinstance(doc.get("data"), dict):
        text = "; ".join(str(e.get("message")) for e in errors) or "no data"
        raise Stop(Outcome(f"Shopify GraphQL error: {text}"))
    return dict(doc["data"])


def _throttle_wait(extensions: dict[str, Any]) -> float:
    """Seconds until the cost bucket holds the request's cost again (1 s if not said)."""
    cost = extensions.get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(0.1, missing / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0
