"""Test helpers: tokens, scan-event builders, an API wrapper and a loopback webhook receiver."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import text

from server.channels.signing import verify
from tests.server.local_http import Reply, serve, stop

ADMIN_TOKEN = "admin-token-for-tests-0123456789"
GATEWAY_TOKENS = {"gw-1": "gateway-one-token-0123456789", "gw-2": "gateway-two-token-0123456789"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GW1 = {"Authorization": f"Bearer {GATEWAY_TOKENS['gw-1']}"}

CATALOG = [
    {"sku": "CLN-200", "name": "Facial cleanser 200 ml", "gtin": "09506000134352",
     "unit_cost": "4.00", "reorder_point": 30, "reorder_qty": 100},
    {"sku": "PHC-01", "name": "Phone case", "gtin": "05901234123457", "unit_cost": "2.00"},
    {"sku": "GUM-12", "name": "Chewing gum 12-pack", "gtin": "00036000291452",
     "unit_cost": "0.50"},
]  # fmt: skip
LOCATIONS = ["WH1-A-01", "WH1-A-02", "WH1-B-02", "WH2-A-01"]


def scan(dev: str, seq: int, code: str, mode: str, loc: str, ref: str = "", qty: int = 1,
         **extra: Any) -> dict[str, Any]:  # fmt: skip
    """A scan event as a gateway forwards it, taken now and received 100 ms later (a fixed
    date would turn into a stale, flagged clock as the calendar moves on)."""
    taken = int(time.time() * 1000)
    doc = {"v": 1, "dev": dev, "seq": seq, "boot": 1, "ts": taken, "code": code,
           "sym": code[:3] if code.startswith("]") else "", "mode": mode, "qty": qty, "loc": loc,
           "ref": ref, "site": "site1", "gw_ts": taken + 100}  # fmt: skip
    return doc | extra


class Api:
    """Thin admin/gateway client over the TestClient; asserts 2xx unless told otherwise."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._seqs: dict[str, int] = {}

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=ADMIN)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.client.post(path, json=body, headers=ADMIN)
        assert response.status_code == status, response.text
        return response.json()

    def batch(self, events: Iterable[dict[str, Any]], gateway: str = "gw-1") -> list[dict]:
        headers = {"Authorization": f"Bearer {GATEWAY_TOKENS[gateway]}"}
        body = {"gateway": gateway, "events": list(events)}
        response = self.client.post("/v1/scan-batches", json=body, headers=headers)
        assert response.status_code == 200, response.text
        results: list[dict] = response.json()["results"]
        return results

    def next_seq(self, dev: str) -> int:
        self._seqs[dev] = self._seqs.get(dev, 0) + 1
        return self._seqs[dev]

    def scan(self, dev: str, code: str, mode: str, loc: str, ref: str = "", qty: int = 1) -> dict:
        return self.batch([scan(dev, self.next_seq(dev), code, mode, loc, ref, qty)])[0]

    def seed(self, catalog: list[dict] = CATALOG, locations: list[str] = LOCATIONS) -> None:
        for item in catalog:
            self.post("/v1/skus", item)
        for code in locations:
            self.post("/v1/locations", {"code": code})

    def on_hand(self, sku: str, loc: str | None = None) -> int:
        params = {"sku": sku} | ({"loc": loc} if loc else {})
        return sum(row["on_hand"] for row in self.get("/v1/stock", **params)["stock"])

    def on_hand_map(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for row in self.get("/v1/stock")["stock"]:
            per = out.setdefault(row["sku"], {})
            per[row["loc"]] = per.get(row["loc"], 0) + row["on_hand"]
        return out


@dataclass
class Push:
    sku: str
    doc: dict[str, Any]
    at: float


@dataclass
class Receiver:
    """A signed-webhook receiver on loopback that checks §4 like a real shop would."""

    secret: str
    fail_first: int = 0
    throttle_first: int = 0  # answered 429 Retry-After: 1
    throttled_at: list[float] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    stale: int = 0
    _last: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def handle(self, headers: Any, body: bytes) -> int:
        with self._lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return 500
            if self.throttle_first > 0:
                self.throttle_first -= 1
                self.throttled_at.append(time.monotonic())
                return 429
            ts = headers.get("X-Stockwire-Timestamp", "")
            sig = headers.get("X-Stockwire-Signature", "")
            if not verify(self.secret, ts, body, sig, time.time()):
                self.rejected.append(sig)
                return 401
            doc = orjson.loads(body)
            if doc["version"] <= self._last.get(doc["sku"], 0):
                self.stale += 1
                return 409
            self._last[doc["sku"]] = doc["version"]
            self.pushes.append(Push(doc["sku"], doc, time.monotonic()))
            return 200

    def last(self) -> dict[str, int]:
        with self._lock:
            return {p.sku: p.doc["available"] for p in self.pushes}

    def start(self) -> Receiver:
        def handle(method: str, path: str, headers: Any, body: bytes) -> Reply:
            status = self.handle(headers, body)
            return status, {"Retry-After": "1"} if status == 429 else {}, b""

        self._server = serve(handle)
        return self

    def stop(self) -> None:
        stop(self._server)


def wait_for(check: Callable[[], bool], timeout: float = 10.0, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


def execute_sql(db_url: str, *statements: str) -> None:
    """Run raw SQL on a ledger through a connection of its own (tests that tamper with it)."""
    from server.db.engine import Database

    async def go() -> None:
        db = Database(db_url)
        try:
            await db.write_quietly(lambda conn: [conn.execute(text(s)) for s in statements])
        finally:
            await db.dispose()

    asyncio.run(go())
