"""Oversell bench: several sales channels selling the same stock while scanners book receipts
and picks; how many orders were oversold, how many could have been (races), and how fast each
channel was told.

The ledger runs as a process (`stockwire ledger serve`, SQLite, its own dispatcher). Each
channel is a simulated shop on loopback: it receives the signed stock pushes (keeping the
highest version per SKU), shows that quantity to its customers, takes an order only for
stock it shows (lowering its own count at once, as a real shop does) and sends the order to
the ledger as its signed order webhook. A scanner books receipts (restocking what runs low)
and picks for the reserved orders (`POST /v1/scan-batches`, as a gateway forwards them).

A **race**: an order on one channel for a SKU whose last change (another channel's order,
taken by the ledger before this order was sent) had not reached this channel yet: the shop
sold from a view older than the push latency. With safety stock 0 an oversell can only come
from a race, so a run without races must show 0 oversold; the table says how many races
there were and how many of them oversold.

    python -m bench.oversell [--seconds 20] [--channels 3] [--skus 20] [--stock 4]
                             [--orders-per-s 12] [--scans-per-s 6] [--seed 1]

Prints per channel: orders taken, oversold, races, pushes and push latency p50/p99 (the
shop's receive time minus the ledger's change time, one clock; the first full sync of a new
channel is not counted), then a verdict line; exit status 1 if an order oversold without
having raced.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

from server.channels.signing import headers as signed
from server.channels.signing import verify
from stockwire.processes import Ledger

SECRET_OF = "bench-channel-secret-{}-0123456789"
BINS = ["WH1-A-01", "WH1-A-02"]


def _gtin14(body13: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body13)))
    return body13 + str((10 - total % 10) % 10)


@dataclass
class Order:
    channel: str
    sku: str
    qty: int
    sent: float  # wall clock (s) when sent
    done: float = 0.0  # when the ledger answered
    status: str = ""
    ref: str = ""


@dataclass
class Shop:
    """A channel's shop: the stock pushes it received and what it shows."""

    name: str
    secret: str
    shows: dict[str, int] = field(default_factory=dict)
    version: dict[str, int] = field(default_factory=dict)
    seen: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (changed, recv)
    latencies_ms: list[float] = field(default_factory=list)
    rejected: int = 0
    timing: bool = False  # latencies are kept once the first full sync is over
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/stock"

    def take_push(self, headers: Any, body: bytes) -> int:
        received = time.time()
        ts, sig = headers.get("X-Stockwire-Timestamp", ""), headers.get("X-Stockwire-Signature", "")
        if not verify(self.secret, ts, body, sig, received):
            self.rejected += 1
            return 401
        doc = orjson.loads(body)
        changed = datetime.fromisoformat(doc["changed_at"].replace("Z", "+00:00")).timestamp()
        with self.lock:
            sku = doc["sku"]
            if self.timing:
                self.latencies_ms.append((received - changed) * 1000)
            if doc["version"] > self.version.get(sku, 0):
                self.version[sku] = doc["version"]
                self.shows[sku] = doc["available"]
            self.seen.setdefault(sku, []).append((changed, received))
        return 200

    def start(self) -> Shop:
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = shop.take_push(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server = self.server
        threading.Thread(target=lambda: server.serve_forever(0.02), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def knew(self, sku: str, changed_at_or_after: float, by: float) -> bool:
        """Had this shop, by time `by`, received a push of `sku` made at or after a change?"""
        with self.lock:
            return any(c >= changed_at_or_after and r <= by for c, r in self.seen.get(sku, []))


class Bench:
    def __init__(self, args: argparse.Namespace, ledger: Ledger) -> None:
        self.args = args
        self.ledger = ledger
        self.rng = random.Random(args.seed)
        self.skus = [(f"OVS-{i:03d}", _gtin14(f"{5901234500000 + i * 10:013d}"))
                     for i in range(args.skus)]  # fmt: skip
        self.shops = [
            Shop(f"shop-{chr(97 + i)}", SECRET_OF.format(i)).start() for i in range(args.channels)
        ]
        self.orders: list[Order] = []
        self.to_pick: list[Order] = []
        self.seq = 0
        self.admin = {"Authorization": f"Bearer {ledger.admin_token}"}
        self.gateway = {"Authorization": f"Bearer {ledger.tokens['gw-bench']}"}

    async def scans(
        self, client: httpx.AsyncClient, items: list[tuple[str, str, int, str]]
    ) -> None:
        """Book (code, mode, qty, ref) scans as the gateway forwards them."""
        now_ms = int(time.time() * 1000)
        events = []
        for code, mode, qty, ref in items:
            self.seq += 1
            events.append({"v": 1, "dev": "hs-bench", "seq": self.seq, "boot": 1, "ts": now_ms,
                           "code": code, "sym": "", "mode": mode, "qty": qty, "loc": BINS[0],
                           "ref": ref, "site": "site1", "gw_ts": now_ms})  # fmt: skip
        body = {"gateway": "gw-bench", "events": events}
        answer = await client.post("/v1/scan-batches", json=body, headers=self.gateway)
        answer.raise_for_status()

    async def setup(self, client: httpx.AsyncClient) -> None:
        for sku, gtin in self.skus:
            body = {"sku": sku, "name": sku, "gtin": gtin, "unit_cost": "1.00"}
            (await client.post("/v1/skus", json=body, headers=self.admin)).raise_for_status()
        for code in BINS:
            body = {"code": code}
            (await client.post("/v1/locations", json=body, headers=self.admin)).raise_for_status()
        await self.scans(client, [(g, "receive", self.args.stock, "") for _, g in self.skus])
        for shop in self.shops:
            body = {"name": shop.name, "url": shop.url, "secret": shop.secret}
            (await client.post("/v1/channels", json=body, headers=self.admin)).raise_for_status()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
            len(s.shows) == len(self.skus) for s in self.shops
        ):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the last of the first sync
        for shop in self.shops:
            shop.timing = True

    async def shopper(self, client: httpx.AsyncClient, shop: Shop, until: float) -> None:
        rate = self.args.orders_per_s / len(self.shops)
        n = 0
        while time.monotonic() < until:
            await asyncio.sleep(self.rng.expovariate(rate))
            with shop.lock:
                on_sale = [s for s, q in shop.shows.items() if q > 0]
                if not on_sale:
                    continue
                sku = self.rng.choice(on_sale)
                shop.shows[sku] -= 1  # the shop's own count drops with its sale
            n += 1
            order = Order(shop.name, sku, 1, time.time())
            doc = {"event": "order.created", "id": f"{shop.name}-{n}", "order": f"O{n}",
                   "lines": [{"sku": sku, "qty": 1}]}  # fmt: skip
            body = orjson.dumps(doc)
            path = f"/v1/channels/{shop.name}/orders"
            answer = await client.post(
                path, content=body, headers=signed(shop.secret, int(time.time()), body)
            )
            answer.raise_for_status()
            result = answer.json()
            order.done, order.status, order.ref = time.time(), result["status"], result["order"]
            self.orders.append(order)
            if order.status in ("reserved", "oversold"):
                self.to_pick.append(order)

    async def scanner(self, client: httpx.AsyncClient, until: float) -> None:
        """Picks the reserved orders (oldest first) and restocks what runs low."""
        codes = dict(self.skus)
        while time.monotonic() < until:
            await asyncio.sleep(1 / self.args.scans_per_s)
            if self.to_pick and self.to_pick[0].status == "reserved":
                o = self.to_pick.pop(0)
                await self.scans(client, [(codes[o.sku], "pick", o.qty, o.ref)])
            elif self.to_pick:
                self.to_pick.pop(0)  # an oversold order waits for stock: not picked here
            else:
                _, gtin = self.rng.choice(self.skus)
                await self.scans(client, [(gtin, "receive", 2, "")])

    def raced(self) -> list[Order]:
        """The orders that raced another channel's order of the same SKU: the other one may
        have been taken first (sent before this one was answered) and this shop had not been
        told of it when this one was sent."""
        shops = {s.name: s for s in self.shops}
        return [
            o
            for o in self.orders
            if any(
                p.sku == o.sku
                and p.channel != o.channel
                and p.sent < o.done
                and not shops[o.channel].knew(o.sku, p.sent, o.sent)
                for p in self.orders
            )
        ]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def _run(args: argparse.Namespace, ledger: Ledger) -> Bench:
    bench = Bench(args, ledger)
    async with httpx.AsyncClient(base_url=ledger.url, timeout=30) as client:
        await bench.setup(client)
        until = time.monotonic() + args.seconds
        await asyncio.gather(
            bench.scanner(client, until), *(bench.shopper(client, s, until) for s in bench.shops)
        )
        deadline = time.monotonic() + 30  # let the last pushes arrive
        while time.monotonic() < deadline:
            chans = (await client.get("/v1/channels", headers=bench.admin)).json()["channels"]
            if all(c["pending"] == 0 for c in chans):
                break
            await asyncio.sleep(0.1)
    return bench


def report(bench: Bench) -> bool:
    raced = bench.raced()
    races = {s.name: sum(o.channel == s.name for o in raced) for s in bench.shops}
    print(f"{'channel':10} {'orders':>7} {'oversold':>9} {'races':>6} {'pushes':>7} "
          f"{'push p50 ms':>12} {'push p99 ms':>12}")  # fmt: skip
    total_over = total_races = 0
    # every oversold order must itself be one that raced (not merely as many per channel)
    unexplained = [o for o in bench.orders if o.status == "oversold" and o not in raced]
    ok = not unexplained
    for shop in bench.shops:
        mine = [o for o in bench.orders if o.channel == shop.name]
        over = sum(o.status == "oversold" for o in mine)
        total_over += over
        total_races += races[shop.name]
        lat = shop.latencies_ms
        print(f"{shop.name:10} {len(mine):7d} {over:9d} {races[shop.name]:6d} {len(lat):7d} "
              f"{_pct(lat, 0.5):12.1f} {_pct(lat, 0.99):12.1f}")  # fmt: skip
    print(f"{'total':10} {len(bench.orders):7d} {total_over:9d} {total_races:6d}")
    verdict = "ok" if ok else "FAILED"
    if total_races == 0:
        print(f"verdict: {verdict}: no order raced another within the push latency, "
              f"{total_over} oversold (must be 0)")  # fmt: skip
    else:
        print(f"verdict: {verdict}: {total_races} orders raced another channel's within the "
              f"push latency; {total_over} oversold, {len(unexplained)} of them without a race "
              f"(must be 0)")  # fmt: skip
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--channels", type=int, default=3, choices=range(1, 6))
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument("--stock", type=int, default=4, help="units of each SKU at the start")
    parser.add_argument("--orders-per-s", type=float, default=12.0, help="over all channels")
    parser.add_argument("--scans-per-s", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stockwire-oversell-") as tmp:
        ledger = Ledger(Path(tmp) / "ledger", ["gw-bench"], Path(tmp) / "ledger.log")
        ledger.start()
        bench = None
        try:
            bench = asyncio.run(_run(args, ledger))
        finally:
            ledger.stop()
            for shop in bench.shops if bench else []:
                shop.stop()
        print(f"oversell bench: {args.seconds:g} s, {args.channels} channels, {args.skus} SKUs "
              f"of {args.stock} units, {args.orders_per_s:g} orders/s, {args.scans_per_s:g} "
              f"scans/s, safety stock 0")  # fmt: skip
        return 0 if report(bench) else 1


if __name__ == "__main__":
    raise SystemExit(main())
