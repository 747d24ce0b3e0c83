"""A Shopify shop's Admin GraphQL API on loopback, for the Shopify adapter's tests.

It checks what Shopify documents for the calls Stockwire makes, and answers as Shopify does:
- POST /admin/api/<version>/graphql.json with the `X-Shopify-Access-Token` header (else 401);
- `productVariants(query: "sku:...")`, `inventoryItem(id:) { inventoryLevel(locationId:) }`;
- `inventorySetQuantities` (2026-04 and later): name `available`, a reason, and per quantity
  `inventoryItemId`, `locationId`, `quantity` and `changeFromQuantity` (required; null skips
  the check; a mismatch is the user error CHANGE_FROM_QUANTITY_STALE); the `@idempotent(key:)`
  directive (required): a repeated key with the same input returns the first answer without
  applying it again, with another input IDEMPOTENCY_KEY_PARAMETER_MISMATCH;
- the calculated-cost leaky bucket: each query costs its points, refilled at `restore` per
  second up to `capacity`; a request the bucket cannot pay is answered 200 with a THROTTLED
  error and `extensions.cost.throttleStatus`, and nothing of it is applied.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import orjson

from tests.server.local_http import Reply, json_reply, serve, stop

LOCATION = "gid://shopify/Location/7001"
_PATH = re.compile(r"/admin/api/(20[0-9]{2}-[0-9]{2})/graphql\.json")
_COST = {"find": 3, "level": 2, "set": 10}


@dataclass
class Set:
    sku: str
    quantity: int
    change_from: int | None
    key: str
    reference: str


@dataclass
class Shop:
    token: str
    skus: list[str]
    capacity: float = 1000.0
    restore: float = 50.0
    levels: dict[str, int | None] = field(default_factory=dict)  # sku: available; None: not
    # stocked at the location
    sets: list[Set] = field(default_factory=list)
    stale: int = 0
    throttled: int = 0
    unauthorized: int = 0
    versions: set[str] = field(default_factory=set)
    before_set: Callable[[Shop, str], None] | None = None  # e.g. an order placed on Shopify
    _bucket: float = 0.0
    _last_cost: int = 0
    _refilled: float = field(default_factory=time.monotonic)
    _keys: dict[str, tuple[bytes, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._bucket = self.capacity
        for sku in self.skus:
            self.levels.setdefault(sku, 0)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @staticmethod
    def item(sku: str) -> str:
        return f"gid://shopify/InventoryItem/{sum(ord(c) * 31**i for i, c in enumerate(sku))}"

    def sell(self, sku: str, n: int) -> None:
        """An order on Shopify itself: its available quantity drops."""
        with self._lock:
            self.levels[sku] = (self.levels[sku] or 0) - n

    # -- the API ---------------------------------------------------------------------------

    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        match = _PATH.fullmatch(path)
        if match is None:
            return 404, {"errors": "Not Found"}
        if headers.get("X-Shopify-Access-Token") != self.token:
            with self._lock:
                self.unauthorized += 1
            msg = "[API] Invalid API key or access token (unrecognized login or wrong password)"
            return 401, {"errors": msg}
        if not headers.get("Content-Type", "").startswith("application/json"):
            return 415, {"errors": "Content-Type must be application/json"}
        request = orjson.loads(body)
        query, variables = request["query"], request.get("variables") or {}
        with self._lock:
            self.versions.add(match[1])
            kind = self._kind(query)
            if kind is None:
                return 200, {"errors": [{"message": "this shop only knows Stockwire's calls"}]}
            cost = self._cost(_COST[kind])
            if cost is not None:
                self.throttled += 1
                return 200, cost
            calls = {"find": self._find, "level": self._level_query, "set": self._set}
            data = calls[kind](query, variables)
            status = self._status()
        if "errors" in data:
            return 200, data | {"extensions": status}
        return 200, {"data": data, "extensions": status}

    @staticmethod
    def _kind(query: str) -> str | None:
        if "productVariants(" in query:
            return "find"
        if "inventorySetQuantities(" in query:
            return "set"
        if "inventoryItem(id:" in query:
            return "level"
        return None

    def _cost(self, cost: int) -> dict[str, Any] | None:
        """None when the bucket pays `cost`, else Shopify's THROTTLED answer."""
        clock = time.monotonic()
        self._bucket = min(self.capacity, self._bucket + (clock - self._refilled) * self.restore)
        self._refilled = clock
        if self._bucket >= cost:
            self._bucket -= cost
            self._last_cost = cost
            return None
        return {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": cost,
                    "actualQueryCost": None,
                    "throttleStatus": self._throttle(),
                }
            },
        }

    def _throttle(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.capacity,
            "currentlyAvailable": round(self._bucket, 1),
            "restoreRate": self.restore,
        }

    def _status(self) -> dict[str, Any]:
        cost = self._last_cost
        return {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost,
                         "throttleStatus": self._throttle()}}  # fmt: skip

    def _stock(self, sku: str, location: str) -> dict[str, Any] | None:
        if location != LOCATION or self.levels.get(sku) is None:
            return None
        return {"quantities": [{"quantity": self.levels[sku]}]}

    def _find(self, query: str, v: dict[str, Any]) -> dict[str, Any]:
        wanted = re.fullmatch(r'sku:"((?:[^"\\]|\\.)*)"', v["q"])
        sku = wanted[1].replace('\\"', '"') if wanted else None
        loc = v["loc"]
        nodes = [
            {"sku": s, "inventoryItem": {"id": self.item(s), "inventoryLevel": self._stock(s, loc)}}
            for s in self.skus
            if s == sku
        ]
        return {"productVariants": {"nodes": nodes}}

    def _level_query(self, query: str, v: dict[str, Any]) -> dict[str, Any]:
        sku = next((s for s in self.skus if self.item(s) == v["item"]), None)
        item = None if sku is None else {"inventoryLevel": self._stock(sku, v["loc"])}
        return {"inventoryItem": item}

    def _set(self, query: str, v: dict[str, Any]) -> dict[str, Any]:
        key = v.get("key")
        directive = r"inventorySetQuantities\(input: \$input\) @idempotent\(key: \$key\)"
        if not re.search(directive, query) or not key:
            return {"errors": [{"message": "inventorySetQuantities requires @idempotent(key:)"}]}
        data = v["input"]
        if data.get("name") != "available" or data.get("reason") not in ("correction", "other"):
            return {"errors": [{"message": f"bad name or reason: {data}"}]}
        for q in data["quantities"]:
            if set(q) != {"inventoryItemId", "locationId", "quantity", "changeFromQuantity"}:
                return {"errors": [{"message": f"changeFromQuantity is required: {sorted(q)}"}]}
        seen = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        if key in self._keys:
            first, answer = self._keys[key]
            if first != seen:
                return _user_errors("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "key reused")
            return answer
        answer = self._apply(data, key)
        self._keys[key] = (seen, answer)
        return answer

    def _apply(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        for q in data["quantities"]:
            sku = next((s for s in self.skus if self.item(s) == q["inventoryItemId"]), None)
            if sku is None or q["locationId"] != LOCATION:
                return _user_errors("INVALID_INVENTORY_ITEM", "not found")
            if self.before_set is not None:
                self.before_set(self, sku)
            if q["quantity"] < 0:
                return _user_errors("INVALID_QUANTITY_NEGATIVE", "negative")
            change_from = q["changeFromQuantity"]
            if change_from is not None and change_from != self.levels[sku]:
                self.stale += 1
                return _user_errors("CHANGE_FROM_QUANTITY_STALE", "changeFromQuantity is stale")
            self.levels[sku] = q["quantity"]
            ref = data["referenceDocumentUri"]
            self.sets.append(Set(sku, q["quantity"], change_from, key, ref))
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"reason": data["reason"]},
                                           "userErrors": []}}  # fmt: skip

    # -- the server --------------------------------------------------------------------------

    def start(self) -> Shop:
        def handle(method: str, path: str, headers: Any, body: bytes) -> Reply:
            return json_reply(*self.handle(path, headers, body))

        self._server = serve(handle)
        return self

    def stop(self) -> None:
        stop(self._server)


def _user_errors(code: str, message: str) -> dict[str, Any]:
    return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None,
                                       "userErrors": [{"code": code, "field": ["input"],
                                                       "message": message}]}}  # fmt: skip
