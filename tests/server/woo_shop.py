"""A WooCommerce shop's REST API v3 on loopback, for the WooCommerce adapter's tests.

It checks what WooCommerce documents for the calls Stockwire makes, and answers as it does:
- HTTP Basic with the REST key's consumer key and secret (else 401
  `woocommerce_rest_cannot_view`);
- `GET /wp-json/wc/v3/products?sku=X`: the product or the variation with that SKU (a
  variation carries `type: variation` and its `parent_id`);
- `POST /wp-json/wc/v3/products/batch` and `POST /products/<parent>/variations/batch` with
  `{"update": [{"id", ...}]}`, at most 100 items (else 413
  `woocommerce_rest_request_entity_too_large`); each item answered with the updated object or
  an `error` (`woocommerce_rest_product_invalid_id` / `..._variation_invalid_id`);
  `stock_quantity` counts only where `manage_stock` is on;
- `rate_limit`: requests allowed per second before a 429 with Retry-After (a host's limit).
"""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from tests.server.local_http import Reply, json_reply, serve, stop

KEY = "ck_4f9a1c7e2b8d6a30ff"
SECRET = "cs_0a1b2c3d4e5f60718293"


@dataclass
class Item:
    id: int
    sku: str
    parent_id: int = 0
    manage_stock: bool = False
    stock_quantity: int | None = None


@dataclass
class WooShop:
    simple: list[str]
    variations: dict[str, int] = field(default_factory=dict)  # sku: parent product id
    rate_limit: float | None = None  # requests a second
    items: dict[int, Item] = field(default_factory=dict)
    batches: list[tuple[str, int]] = field(default_factory=list)  # (path, items)
    lookups: int = 0
    limited: int = 0
    unauthorized: int = 0
    _times: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        for n, sku in enumerate(self.simple, start=100):
            self.items[n] = Item(n, sku)
        for n, (sku, parent) in enumerate(self.variations.items(), start=500):
            self.items[n] = Item(n, sku, parent)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stock(self) -> dict[str, int | None]:
        with self._lock:
            return {
                i.sku: i.stock_quantity if i.manage_stock else None for i in self.items.values()
            }

    def delete(self, sku: str) -> None:
        with self._lock:
            self.items = {n: i for n, i in self.items.items() if i.sku != sku}

    def handle(
        self, method: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        with self._lock:
            if self.rate_limit is not None:
                clock = time.monotonic()
                self._times = [t for t in self._times if clock - t < 1.0]
                if len(self._times) >= self.rate_limit:
                    self.limited += 1
                    return 429, {"code": "too_many_requests"}, {"Retry-After": "1"}
                self._times.append(clock)
            if (
                headers.get("Authorization")
                != "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
            ):
                self.unauthorized += 1
                error = {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                    "data": {"status": 401},
                }
                return 401, error, {}
            path = parts.path.removeprefix("/wp-json/wc/v3/")
            if method == "GET" and path == "products":
                self.lookups += 1
                skus = parse_qs(parts.query).get("sku", [""])[0].split(",")
                return 200, [self._doc(i) for i in self.items.values() if i.sku in skus], {}
            match = re.fullmatch(r"products/batch|products/([0-9]+)/variations/batch", path)
            if method == "POST" and match:
                return self._batch(path, match[1], orjson.loads(body))
            return 404, {"code": "rest_no_route", "message": "No route was found"}, {}

    def _batch(
        self, path: str, parent: str | None, doc: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        updates = doc.get("update") or []
        if len(updates) > 100:
            error = {
                "code": "woocommerce_rest_request_entity_too_large",
                "message": "Unable to accept more than 100 items for this request.",
                "data": {"status": 413},
            }
            return 413, error, {}
        self.batches.append((path, len(updates)))
        out = []
        for u in updates:
            item = self.items.get(int(u["id"]))
            fits = item is not None and (
                item.parent_id == int(parent) if parent else not item.parent_id
            )
            if not fits:
                code = (
                    "woocommerce_rest_product_variation_invalid_id"
                    if parent
                    else "woocommerce_rest_product_invalid_id"
                )
                out.append(
                    {
                        "id": u["id"],
                        "error": {"code": code, "message": "Invalid ID.", "data": {"status": 400}},
                    }
                )
                continue
            assert item is not None
            if "manage_stock" in u:
                item.manage_stock = bool(u["manage_stock"])
            if "stock_quantity" in u and item.manage_stock:
                item.stock_quantity = int(u["stock_quantity"])
            out.append(self._doc(item))
        return 200, {"update": out}, {}

    @staticmethod
    def _doc(i: Item) -> dict[str, Any]:
        kind = "variation" if i.parent_id else "simple"
        return {"id": i.id, "sku": i.sku, "type": kind, "parent_id": i.parent_id,
                "manage_stock": i.manage_stock, "stock_quantity": i.stock_quantity}  # fmt: skip

    def start(self) -> WooShop:
        def handle(method: str, path: str, headers: Any, body: bytes) -> Reply:
            status, doc, extra = self.handle(method, path, headers, body)
            return json_reply(status, doc, extra)

        self._server = serve(handle)
        return self

    def stop(self) -> None:
        stop(self._server)
