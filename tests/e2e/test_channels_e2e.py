"""From a scan to every kind of sales channel and back: the real firmware (unix port) scans
through Mosquitto (the product's auth and ACL) and the gateway into the ledger process, whose
dispatcher pushes to a signed webhook, a Shopify, a WooCommerce and a Shopee shop on loopback
(tests/server/*_shop.py, each checking its platform's authentication and calls); orders come
back from every shop as its signed webhook (Shopee's push, its items read from its API), a
pick with the order's reference label consumes one, a cancel releases another, and every shop
ends showing the ledger's available quantity."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.broker import BrokerSite
from server.channels.signing import headers as signed
from stockwire import firmware
from stockwire.demo.handheld import Handheld
from stockwire.processes import Gateway, Ledger, Mosquitto
from tests.server.shopee_shop import PARTNER_ID, PARTNER_KEY, SHOP_ID, ShopeeShop
from tests.server.shopify_shop import LOCATION, Shop
from tests.server.support import CATALOG, LOCATIONS, Receiver, wait_for
from tests.server.woo_shop import KEY, SECRET, WooShop

SITE = "site1"
EAN = "5901234123457"  # PHC-01
HOOK_SECRET = "e2e-webhook-secret-0123456789"
SHOPIFY_TOKEN = "shpat_e2e0123456789abcdef"
SHOPIFY_APP_SECRET = "e2e-shopify-client-secret-0123"
WOO_HOOK_SECRET = "e2e-woo-webhook-secret-0123456"


@dataclass
class Site:
    ledger: Ledger
    api: httpx.Client
    scanner: Handheld
    hook: Receiver
    shopify: Shop
    woo: WooShop
    shopee: ShopeeShop

    def shows(self) -> dict[str, int | None]:
        """What each channel shows for PHC-01."""
        return {
            "webshop": self.hook.last().get("PHC-01"),
            "shopify": self.shopify.levels.get("PHC-01"),
            "woo": self.woo.stock().get("PHC-01"),
            "shopee": self.shopee.stock.get((1001, 0)),
        }

    def order(self, channel: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        answer = self.api.post(f"/v1/channels/{channel}/orders", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    broker_site = BrokerSite(SITE)
    gw_account = broker_site.add("gw-1", "gateway")
    scanner_password = broker_site.add("hs-01", "scanner").password
    broker = Mosquitto(tmp_path / "broker", broker_site)
    ledger = Ledger(tmp_path, ["gw-1"], tmp_path / "ledger.log")
    gateway = Gateway(tmp_path, SITE, "gw-1", gw_account.password, broker.port, ledger,
                      tmp_path / "gateway.log")  # fmt: skip
    shops = [
        Receiver(HOOK_SECRET).start(),
        Shop(SHOPIFY_TOKEN, ["PHC-01", "CLN-200", "GUM-12"]).start(),
        WooShop(["PHC-01", "CLN-200"], {"GUM-12": 77}).start(),
        ShopeeShop({1001: {"sku": "PHC-01", "models": {}}, 1002: {"sku": "CLN-200", "models": {}},
                    1003: {"sku": "GUM", "models": {77: "GUM-12"}}}).start(),
    ]  # fmt: skip
    hook, shopify, woo, shopee = shops
    scanner = None
    broker.start()
    ledger.start()
    gateway.start()
    api = httpx.Client(base_url=ledger.url, timeout=10,
                       headers={"Authorization": f"Bearer {ledger.admin_token}"})  # fmt: skip
    try:
        _connect(api, hook, shopify, woo, shopee)
        scanner = Handheld(tmp_path, firmware.build(tmp_path / "fw"), "hs-01", SITE, broker.port,
                           scanner_password)  # fmt: skip
        scanner.start()
        scanner.wait_for("CONNECTED", timeout=20)
        yield Site(ledger, api, scanner, hook, shopify, woo, shopee)
    finally:
        if scanner is not None:
            scanner.stop()
        api.close()
        gateway.stop()
        ledger.stop()
        broker.stop()
        for shop in shops:
            shop.stop()


def _connect(
    api: httpx.Client, hook: Receiver, shopify: Shop, woo: WooShop, shopee: ShopeeShop
) -> None:
    for item in CATALOG:
        api.post("/v1/skus", json=item).raise_for_status()
    for code in LOCATIONS:
        api.post("/v1/locations", json={"code": code}).raise_for_status()
    channels = [
        {"name": "webshop", "url": hook.url, "secret": HOOK_SECRET},
        {"name": "shopify", "kind": "shopify", "url": shopify.url, "secret": SHOPIFY_TOKEN,
         "order_secret": SHOPIFY_APP_SECRET, "settings": {"location_id": LOCATION}},
        {"name": "woo", "kind": "woocommerce", "url": woo.url, "secret": f"{KEY}:{SECRET}",
         "order_secret": WOO_HOOK_SECRET},
        {"name": "shopee", "kind": "shopee", "url": shopee.url, "secret": PARTNER_KEY,
         "settings": {"partner_id": str(PARTNER_ID), "shop_id": str(SHOP_ID)}},
    ]  # fmt: skip
    for channel in channels:
        api.post("/v1/channels", json=channel).raise_for_status()
    access, refresh = shopee.grant()
    tokens = {"access_token": access, "refresh_token": refresh, "expires_in": 14400}
    api.put("/v1/channels/shopee/tokens", json=tokens).raise_for_status()


def _b64hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_a_scan_reaches_every_channel_and_their_orders_come_back_as_reservations(
    site: Site,
) -> None:
    hs = site.scanner
    hs.read("SW:MODE:receive", "SW:LOC:WH1-A-01", "SW:QTY:6", EAN)
    hs.wait_for("BOOKED", timeout=20)
    assert wait_for(lambda: set(site.shows().values()) == {6}, timeout=20), site.shows()

    # orders from three channels, each signed as its platform signs it
    shopify_order = orjson.dumps({"id": 5001, "line_items": [{"sku": "PHC-01", "quantity": 2}]})
    taken = site.order("shopify", shopify_order, {
        "X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": "ev-1",
        "X-Shopify-Hmac-Sha256": _b64hmac(SHOPIFY_APP_SECRET, shopify_order)})  # fmt: skip
    assert taken["status"] == "reserved"
    woo_order = orjson.dumps({"id": 77, "status": "processing",
                              "line_items": [{"sku": "PHC-01", "quantity": 1}]})  # fmt: skip
    woo_headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Delivery-ID": "d-1",
                   "X-WC-Webhook-Signature": _b64hmac(WOO_HOOK_SECRET, woo_order)}  # fmt: skip
    assert site.order("woo", woo_order, woo_headers)["status"] == "reserved"
    hook_order = orjson.dumps({"event": "order.created", "id": "e-1", "order": "SO-9",
                               "lines": [{"sku": "PHC-01", "qty": 1}]})  # fmt: skip
    hook_headers = signed(HOOK_SECRET, int(time.time()), hook_order)
    assert site.order("webshop", hook_order, hook_headers)["status"] == "reserved"
    site.shopee.orders["241204AB"] = [{"item_sku": "PHC-01", "model_quantity_purchased": 1}]
    push_url = f"{site.ledger.url}/v1/channels/shopee/orders"
    shopee_push = orjson.dumps({"shop_id": SHOP_ID, "code": 3, "timestamp": int(time.time()),
                                "data": {"ordersn": "241204AB", "status": "UNPAID"}})  # fmt: skip
    auth = hmac.new(PARTNER_KEY.encode(), push_url.encode() + b"|" + shopee_push, hashlib.sha256)
    answer = site.api.post(
        push_url, content=shopee_push, headers={"Authorization": auth.hexdigest()}
    )
    assert (answer.status_code, answer.content) == (200, b"")
    assert wait_for(lambda: set(site.shows().values()) == {1}, timeout=20), site.shows()

    # the picker scans the Shopify order's packing slip, then the two items: its reservation
    # is consumed and nothing else changes for the channels
    hs.read("SW:MODE:pick", "SW:REF:shopify:5001", "SW:QTY:2", EAN)
    hs.wait_for("BOOKED", count=2, timeout=20)
    assert wait_for(
        lambda: site.api.get("/v1/reservations/shopify:5001").json()["status"] == "consumed"
    )
    # the WooCommerce order is cancelled: its unit is for sale again everywhere
    cancelled = orjson.dumps({"id": 77, "status": "cancelled",
                              "line_items": [{"sku": "PHC-01", "quantity": 1}]})  # fmt: skip
    cancel_headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Delivery-ID": "d-2",
                      "X-WC-Webhook-Signature": _b64hmac(WOO_HOOK_SECRET, cancelled)}  # fmt: skip
    assert site.order("woo", cancelled, cancel_headers)["status"] == "cancelled"
    assert wait_for(lambda: set(site.shows().values()) == {2}, timeout=20), site.shows()

    def channels() -> list[dict[str, Any]]:
        return list(site.api.get("/v1/channels").json()["channels"])

    assert wait_for(lambda: all(c["pending"] == 0 for c in channels()), timeout=20), channels()
    assert [c["oversells"] for c in channels()] == [0, 0, 0, 0]
    assert site.shopify.unauthorized == site.woo.unauthorized == site.shopee.bad_signs == 0
