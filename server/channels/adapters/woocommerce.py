"""WooCommerce, through its REST API v3 (`/wp-json/wc/v3`).

A SKU's stock is the product's (or the variation's) `stock_quantity`, with `manage_stock` on
(WooCommerce ignores the quantity of a product that does not manage stock):
- the SKU is found once with `GET /products?sku=...`, which finds variations too (their
  `parent_id` says which product); the id is kept as `product:<id>` or
  `variation:<parent>:<id>` (`channel_skus.remote_id`);
- changes go out in batches: `POST /products/batch` with up to 100 `update` items, and
  `POST /products/<parent>/variations/batch` per parent (WooCommerce has no batch across
  parents); each item's answer (the product, or an `error`) is that SKU's outcome;
- authentication: HTTP Basic with the REST API key's consumer key and secret (the channel's
  secret, `ck_...:cs_...`), which WooCommerce accepts over HTTPS;
- a 429 (a host's or a security plugin's rate limit) pauses the channel for Retry-After.
WooCommerce has no compare-and-set: the ledger's quantity overwrites the shop's. An order
placed on the shop meanwhile is in the shop's own count and reaches the ledger as a
reservation (its order webhook), which pushes the quantity again.
"""

from __future__ import annotations

from typing import Any

import httpx

from server.channels.adapters import Outcome, Push, Stop, retry_after

BATCH = 100  # WooCommerce's limit on the items of one batch request


class WooCommerce:
    batch = BATCH

    async def push(self, client: httpx.AsyncClient, push: Push) -> Outcome:
        return (await self.push_many(client, [push]))[0]

    async def push_many(self, client: httpx.AsyncClient, pushes: list[Push]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        ids: dict[int, str] = {}
        try:
            for i, p in enumerate(pushes):
                found = p.remote_id or await _find(client, p)
                if isinstance(found, Outcome):
                    outcomes[i] = found
                else:
                    ids[i] = found
            groups: dict[str, list[int]] = {}  # the batch endpoint: the indexes it updates
            for i, remote in ids.items():
                _, *parent, _ = remote.split(":")  # product:<id> | variation:<parent>:<id>
                path = f"products/{parent[0]}/variations/batch" if parent else "products/batch"
                groups.setdefault(path, []).append(i)
            for path, indexes in groups.items():
                outcomes.update(await _update(client, pushes, path, indexes, ids))
        except Stop as stop:  # the whole call failed (network, auth, rate limit)
            o = stop.outcome
            for i in range(len(pushes)):
                outcomes.setdefault(i, Outcome(o.error, o.retry_after, ids.get(i)))
        return [outcomes[i] for i in range(len(pushes))]


async def _find(client: httpx.AsyncClient, push: Push) -> str | Outcome:
    """`product:<id>` / `variation:<parent>:<id>` for the SKU, or the failure saying why."""
    items = await _call(client, push, "GET", "products", params={"sku": push.sku})
    matches = [i for i in items if i.get("sku") == push.sku]
    if len(matches) != 1:
        found = "no" if not matches else "more than one"
        return Outcome(f"{found} WooCommerce product with SKU {push.sku!r}")
    item = matches[0]
    if item.get("type") == "variation" or item.get("parent_id"):
        return f"variation:{item['parent_id']}:{item['id']}"
    return f"product:{item['id']}"


async def _update(
    client: httpx.AsyncClient,
    pushes: list[Push],
    path: str,
    indexes: list[int],
    ids: dict[int, str],
) -> dict[int, Outcome]:
    by_id = {int(ids[i].split(":")[-1]): i for i in indexes}
    body = {
        "update": [
            {"id": item_id, "manage_stock": True, "stock_quantity": pushes[i].available}
            for item_id, i in by_id.items()
        ]
    }
    answer = await _call(client, pushes[indexes[0]], "POST", path, json=body)
    out: dict[int, Outcome] = {}
    for item in answer.get("update") or []:
        i = by_id.get(int(item.get("id", -1)))
        if i is None:
            continue
        error = item.get("error")
        if error:
            # an id the shop no longer has: forget it, the next push looks the SKU up again
            gone = error.get("code", "").endswith("invalid_id")
            text = f"WooCommerce refused: {error.get('code')}: {error.get('message')}"
            out[i] = Outcome(text, remote_id=ids[i], forget_remote=gone)
        else:
            out[i] = Outcome(remote_id=ids[i], remote_qty=int(item.get("stock_quantity") or 0))
    for i in indexes:
        out.setdefault(i, Outcome("the batch answer left this SKU out", remote_id=ids[i]))
    return out


async def _call(
    client: httpx.AsyncClient, push: Push, method: str, path: str, **kwargs: Any
) -> Any:
    key, _, secret = push.secret.partition(":")
    url = f"{push.url.rstrip('/')}/wp-json/wc/v3/{path}"
    try:
        response = await client.request(method, url, auth=(key, secret), **kwargs)
    except httpx.HTTPError as exc:
        raise Stop(Outcome(f"{type(exc).__name__}: {exc}")) from None
    if response.status_code == 429:
        wait = retry_after(response)
        raise Stop(Outcome(f"HTTP 429: rate limited for {wait:g} s", retry_after=wait))
    if not response.is_success:
        raise Stop(Outcome(f"HTTP {response.status_code}: {response.text[:200]}"))
    try:
        return response.json()
    except ValueError:
        raise Stop(Outcome(f"not JSON: {response.text[:200]}")) from None
