"""A Shopee shop's Open Platform API v2 on loopback, for the Shopee adapter's tests.

It checks what Shopee documents for the calls Stockwire makes, and answers as Shopee does
(`{"request_id", "error", "message", "response"}`; errors with HTTP 200 or 4xx):
- shop APIs (`product/search_item`, `product/get_model_list`, `product/update_stock`): the
  common parameters partner_id, timestamp (within 5 minutes), access_token, shop_id and
  `sign` = hex HMAC-SHA256(partner key, partner_id + path + timestamp + access_token +
  shop_id); a wrong sign is `error_sign`, an unknown or expired token `invalid_access_token`;
- the public `auth/access_token/get`, signed over partner_id + path + timestamp: a valid
  refresh token gives a new access token (4 h) and a new refresh token (the old one is spent);
- `update_stock`: one `item_id`, `stock_list` of `{model_id?, seller_stock: [{stock}]}`
  answered with `success_list` / `failure_list`;
- `order/get_order_detail` with `response_optional_fields=item_list` for the orders in `orders`;
- `per_second`: shop API calls allowed a second before an HTTP 429 `error_too_many_request`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from tests.server.local_http import Reply, json_reply, serve, stop

PARTNER_ID = 2001887
PARTNER_KEY = "shpk-test-partner-key-0123456789abcdef"
SHOP_ID = 14701711


@dataclass
class ShopeeShop:
    items: dict[int, dict[str, Any]]  # item_id: {"sku": ..., "models": {model_id: sku}}
    access: dict[str, float] = field(default_factory=dict)  # token: expires (unix s)
    refresh: set[str] = field(default_factory=set)
    stock: dict[tuple[int, int], int] = field(default_factory=dict)  # (item, model): stock
    orders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # order_sn: items
    per_second: float | None = None  # shop API calls allowed a second, then HTTP 429
    limited: int = 0
    _calls: list[float] = field(default_factory=list)
    refreshes: int = 0
    bad_signs: int = 0
    lookups: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def grant(self, lifetime: float = 14400) -> tuple[str, str]:
        """A shop's authorization: an access token and a refresh token."""
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.access[access] = time.time() + lifetime
        self.refresh.add(refresh)
        return access, refresh

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def handle(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        with self._lock:
            try:
                ts, partner = int(q["timestamp"]), int(q["partner_id"])
            except (KeyError, ValueError):
                return 400, _error("error_param", "partner_id and timestamp are required")
            if partner != PARTNER_ID:
                return 403, _error("error_partner", "no such partner")
            if abs(time.time() - ts) > 300:
                return 403, _error("error_timestamp", "the timestamp is out of range")
            if path == "/api/v2/auth/access_token/get":
                if q.get("sign") != _sign(PARTNER_ID, path, ts):
                    self.bad_signs += 1
                    return 403, _error("error_sign", "wrong sign")
                return self._refresh(orjson.loads(body))
            token, shop = q.get("access_token", ""), q.get("shop_id", "")
            if q.get("sign") != _sign(PARTNER_ID, path, ts, token, shop):
                self.bad_signs += 1
                return 403, _error("error_sign", "wrong sign")
            if self.per_second is not None:
                clock = time.monotonic()
                self._calls = [c for c in self._calls if clock - c < 1.0]
                if len(self._calls) >= self.per_second:
                    self.limited += 1
                    return 429, _error("error_too_many_request", "too many requests")
                self._calls.append(clock)
            if shop != str(SHOP_ID):
                return 403, _error("error_shop", "no such shop")
            if self.access.get(token, 0) < time.time():
                return 403, _error("invalid_access_token", "Invalid access_token.")
            if method == "GET" and path == "/api/v2/product/search_item":
                self.lookups += 1
                sku = q.get("item_sku", "")
                found = [i for i, it in self.items.items()
                         if it["sku"] == sku or sku in it["models"].values()]  # fmt: skip
                return 200, _ok({"item_id_list": found, "total_count": len(found)})
            if method == "GET" and path == "/api/v2/product/get_model_list":
                models = self.items.get(int(q.get("item_id", 0)), {}).get("models", {})
                listed = [{"model_id": m, "model_sku": s} for m, s in models.items()]
                return 200, _ok({"tier_variation": [], "model": listed})
            if method == "GET" and path == "/api/v2/order/get_order_detail":
                sns = q.get("order_sn_list", "").split(",")
                if q.get("response_optional_fields") != "item_list":
                    return 200, _ok({"order_list": [{"order_sn": sn} for sn in sns]})
                found = [{"order_sn": sn, "item_list": self.orders[sn]} for sn in sns
                         if sn in self.orders]  # fmt: skip
                return 200, _ok({"order_list": found})
            if method == "POST" and path == "/api/v2/product/update_stock":
                return self._update(orjson.loads(body))
            return 404, _error("error_not_found", "no such API")

    def _refresh(self, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if doc.get("refresh_token") not in self.refresh or doc.get("shop_id") != SHOP_ID:
            return 403, _error("error_auth", "Invalid refresh_token.")
        self.refresh.discard(doc["refresh_token"])
        access, refresh = self.grant()
        self.refreshes += 1
        answer = {"access_token": access, "refresh_token": refresh, "expire_in": 14400,
                  "request_id": "r", "error": "", "message": ""}  # fmt: skip
        return 200, answer

    def _update(self, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        item_id = doc.get("item_id")
        item = self.items.get(item_id) if isinstance(item_id, int) else None
        if item is None:
            return 200, _error("error_item_not_found", "item_id is not found")
        ok, failed = [], []
        for entry in doc.get("stock_list") or []:
            model = int(entry.get("model_id", 0))
            [seller] = entry["seller_stock"]
            if (model == 0 and item["models"]) or (model and model not in item["models"]):
                failed.append({"model_id": model, "failed_reason": "model_id not exist"})
                continue
            self.stock[(item_id, model)] = int(seller["stock"])
            ok.append({"model_id": model, "stock": int(seller["stock"])})
        return 200, _ok({"success_list": ok, "failure_list": failed})

    def start(self) -> ShopeeShop:
        def handle(method: str, path: str, headers: Any, body: bytes) -> Reply:
            return json_reply(*self.handle(method, path, body))

        self._server = serve(handle)
        return self

    def stop(self) -> None:
        stop(self._server)


def _sign(*parts: object) -> str:
    base = "".join(str(p) for p in parts)
    return hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()


def _ok(response: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": "r", "error": "", "message": "", "response": response}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"request_id": "r", "error": code, "message": message}
