"""Channel orders in: each platform's signed order webhook becomes a reservation (once per
delivery), a cancel releases it, a pick consumes it, and an order for stock that is gone is an
oversell, flagged at once; every channel is told the new quantity."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from server.channels.orders import _key
from server.channels.signing import headers as signed
from tests.server.support import ADMIN, Api, Receiver, wait_for

SECRET = "channel-secret-0123456789"
SHOP_SECRET = "shopify-app-client-secret-0123"
WOO_SECRET = "woo-webhook-secret-0123456789"
EAN = "5901234123457"  # PHC-01


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(SECRET).start()
    yield r
    r.stop()


def webhook_channel(api: Api, receiver: Receiver) -> None:
    api.post("/v1/channels", {"name": "webshop", "url": receiver.url, "secret": SECRET})


def send(api: Api, channel: str, body: bytes, headers: dict[str, str]) -> Any:
    return api.client.post(f"/v1/channels/{channel}/orders", content=body, headers=headers)


def stockwire_order(api: Api, event: str, key: str, order: str, lines: list | None = None) -> Any:
    doc: dict[str, Any] = {"event": event, "id": key, "order": order}
    if lines is not None:
        doc["lines"] = lines
    body = orjson.dumps(doc)
    return send(api, "webshop", body, signed(SECRET, int(time.time()), body))


WOO = {"name": "woo", "kind": "woocommerce", "url": "https://shop.example.com",
       "secret": "ck_0123456789abcdef:cs_0123456789abcdef"}  # fmt: skip


def woo_channel(api: Api) -> None:
    api.post("/v1/channels", WOO | {"order_secret": WOO_SECRET})


def b64hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_an_order_reserves_once_per_delivery_a_cancel_releases_and_channels_are_told(
    api: Api, receiver: Receiver
) -> None:
    api.seed()
    webhook_channel(api, receiver)
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=10)
    assert wait_for(lambda: receiver.last().get("PHC-01") == 10)
    lines = [{"sku": "PHC-01", "qty": 3}]
    first = stockwire_order(api, "order.created", "evt-1", "SO-1001", lines)
    assert first.status_code == 200, first.text
    assert first.json() | {"short": None} == {
        "channel": "webshop", "order": "webshop:SO-1001", "event": "evt-1",
        "status": "reserved", "short": None, "unknown_skus": []}  # fmt: skip
    again = stockwire_order(api, "order.created", "evt-1", "SO-1001", lines)
    assert again.json()["status"] == "duplicate"
    assert wait_for(lambda: receiver.last().get("PHC-01") == 7)
    order = api.get("/v1/reservations/webshop:SO-1001")
    assert [(ln["sku"], ln["qty"], ln["reserved"]) for ln in order["lines"]] == [("PHC-01", 3, 3)]
    cancelled = stockwire_order(api, "order.cancelled", "evt-2", "SO-1001")
    assert cancelled.json()["status"] == "cancelled"
    assert wait_for(lambda: receiver.last().get("PHC-01") == 10)
    unknown = stockwire_order(api, "order.cancelled", "evt-3", "SO-9")
    assert unknown.json()["status"] == "unknown order"


def test_a_pick_for_a_channel_order_consumes_its_reservation(api: Api, receiver: Receiver) -> None:
    api.seed()
    webhook_channel(api, receiver)
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=5)
    stockwire_order(api, "order.created", "evt-1", "SO-7", [{"sku": "PHC-01", "qty": 2}])
    api.scan("hs-1", EAN, "pick", "WH1-A-01", ref="webshop:SO-7", qty=2)
    assert api.get("/v1/reservations/webshop:SO-7")["status"] == "consumed"
    assert wait_for(lambda: receiver.last().get("PHC-01") == 3)


def test_an_order_for_stock_that_is_gone_is_an_oversell_flagged_at_once(
    api: Api, receiver: Receiver
) -> None:
    api.seed()
    webhook_channel(api, receiver)
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=2)
    taken = stockwire_order(api, "order.created", "evt-1", "SO-1", [{"sku": "PHC-01", "qty": 3}])
    doc = taken.json()
    assert (doc["status"], doc["short"]) == ("oversold", [{"sku": "PHC-01", "qty": 3, "short": 1}])
    [over] = api.get("/v1/channels/webshop/oversells")["oversells"]
    assert (over["order"], over["sku"], over["qty"], over["short"]) == (
        "webshop:SO-1",
        "PHC-01",
        3,
        1,
    )
    assert api.get("/v1/channels")["channels"][0]["oversells"] == 1
    assert wait_for(lambda: receiver.last().get("PHC-01") == 0)
    line = api.get("/v1/reservations/webshop:SO-1")["lines"][0]
    assert (line["qty"], line["reserved"]) == (3, 2)  # it holds what there was


def test_a_wrong_signature_or_an_unknown_channel_is_refused_and_changes_nothing(
    api: Api, receiver: Receiver
) -> None:
    api.seed()
    webhook_channel(api, receiver)
    body = orjson.dumps({"event": "order.created", "id": "e", "order": "X", "lines": []})
    bad = send(api, "webshop", body, signed("another-secret-0123456789", int(time.time()), body))
    assert bad.status_code == 401 and bad.json()["reason"] == "bad signature"
    stale = send(api, "webshop", body, signed(SECRET, int(time.time()) - 3600, body))
    assert stale.status_code == 401
    nobody = send(api, "nope", body, signed(SECRET, int(time.time()), body))
    assert nobody.status_code == 401
    junk = b'{"event": "order.shipped", "id": "e", "order": "X"}'
    assert send(api, "webshop", junk, signed(SECRET, int(time.time()), junk)).status_code == 422
    assert api.get("/v1/reservations")["reservations"] == []


def test_shopify_orders_create_and_cancelled_are_verified_and_applied(api: Api) -> None:
    api.seed()
    api.post(
        "/v1/channels",
        {"name": "shopify-eu", "kind": "shopify", "url": "https://acme.myshopify.com",
         "secret": "shpat_0123456789abcdef", "order_secret": SHOP_SECRET,
         "settings": {"location_id": "gid://shopify/Location/7001"}},
    )  # fmt: skip
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=4)
    items = [
        {"sku": "PHC-01", "quantity": 1},
        {"sku": "PHC-01", "quantity": 1},
        {"sku": None, "quantity": 1, "title": "Tip"},
        {"sku": "NOPE-1", "quantity": 2},
    ]
    order = {"id": 820982911946154508, "name": "#1001", "line_items": items}
    body = orjson.dumps(order)

    def shopify(topic: str, event: str, payload: bytes, secret: str = SHOP_SECRET) -> Any:
        return send(api, "shopify-eu", payload, {
            "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": b64hmac(secret, payload),
            "X-Shopify-Event-Id": event, "X-Shopify-Shop-Domain": "acme.myshopify.com",
            "Content-Type": "application/json"})  # fmt: skip

    assert shopify("orders/create", "e1", body, secret="wrong").status_code == 401
    created = shopify("orders/create", "e1", body).json()
    assert (created["status"], created["unknown_skus"]) == ("reserved", ["NOPE-1"])
    ref = "shopify-eu:820982911946154508"
    [line] = api.get(f"/v1/reservations/{ref}")["lines"]
    assert (line["sku"], line["qty"], line["reserved"]) == ("PHC-01", 2, 2)  # the two lines
    assert shopify("orders/create", "e1", body).json()["status"] == "duplicate"
    assert shopify("orders/cancelled", "e2", body).json()["status"] == "cancelled"
    assert api.get(f"/v1/reservations/{ref}")["status"] == "cancelled"
    assert shopify("orders/paid", "e3", body).json()["status"] == "ignored"


def test_woocommerce_order_webhooks_and_its_ping_are_handled(api: Api) -> None:
    api.seed()
    woo_channel(api)
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=4)
    ping = send(api, "woo", b"webhook_id=12", {"Content-Type": "application/x-www-form-urlencoded"})
    assert ping.status_code == 200 and ping.json()["status"] == "ignored"

    def woo(topic: str, delivery: str, doc: dict, secret: str = WOO_SECRET) -> Any:
        payload = orjson.dumps(doc)
        return send(api, "woo", payload, {
            "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": b64hmac(secret, payload),
            "X-WC-Webhook-Delivery-ID": delivery, "X-WC-Webhook-Source": "https://shop.example.com/",
            "Content-Type": "application/json"})  # fmt: skip

    order = {"id": 4711, "status": "processing", "line_items": [{"sku": "PHC-01", "quantity": 3}]}
    assert woo("order.created", "d1", order, secret="nope").status_code == 401
    assert woo("order.created", "d1", order).json()["status"] == "reserved"
    assert woo("order.updated", "d2", order).json()["status"] == "reserved"  # nothing twice
    [line] = api.get("/v1/reservations/woo:4711")["lines"]
    assert line["reserved"] == 3
    changed = woo("order.updated", "d3", order | {"line_items": [{"sku": "PHC-01", "quantity": 5}]})
    assert changed.json()["status"] == "changed"  # an admin adjusts an edited order
    assert (
        woo("order.updated", "d4", order | {"status": "cancelled"}).json()["status"] == "cancelled"
    )
    assert api.get("/v1/reservations/woo:4711")["status"] == "cancelled"
    assert "order_secret" not in str(api.client.get("/v1/channels", headers=ADMIN).json())


def test_an_order_cancelled_and_then_paid_after_all_holds_its_stock_again(
    api: Api, receiver: Receiver
) -> None:
    api.seed()
    webhook_channel(api, receiver)
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=5)
    lines = [{"sku": "PHC-01", "qty": 2}]
    stockwire_order(api, "order.created", "e1", "SO-4", lines)
    assert stockwire_order(api, "order.cancelled", "e2", "SO-4").json()["status"] == "cancelled"
    again = stockwire_order(api, "order.created", "e3", "SO-4", lines).json()
    assert again["status"] == "reserved"
    order = api.get("/v1/reservations/webshop:SO-4")
    assert (order["status"], order["lines"][0]["reserved"]) == ("open", 2)
    assert wait_for(lambda: receiver.last().get("PHC-01") == 3)


def test_order_input_the_ledger_cannot_keep_is_refused_with_its_reason_never_a_500(
    api: Api, receiver: Receiver
) -> None:
    api.seed()
    webhook_channel(api, receiver)
    for doc, words in (
        ({"id": "e", "order": "A/B", "lines": []}, "must not contain '/'"),
        ({"id": "e", "order": "", "lines": []}, "must not be empty"),
        ({"id": "e\u0000", "order": "X", "lines": []}, "control characters"),
        ({"id": "e", "order": "X", "lines": [{"sku": "PHC\u000001", "qty": 1}]}, "control"),
        ({"id": "e", "order": "X", "lines": [{"sku": "PHC-01", "qty": 2**63}]}, "quantity"),
        ({"id": "e", "order": "X", "lines": [{"sku": {"a": 1}, "qty": 1}]}, "text expected"),
        ({"id": "e", "order": "X\nOVERSELL", "lines": []}, "control characters"),
    ):
        body = orjson.dumps({"event": "order.created"} | doc)
        answer = send(api, "webshop", body, signed(SECRET, int(time.time()), body))
        assert answer.status_code == 422 and words in answer.json()["detail"], (doc, answer.text)
    empty = stockwire_order(api, "order.created", "e9", "SO-0", [{"sku": "NOPE", "qty": 1}])
    assert empty.json()["status"] == "nothing to reserve"
    assert api.get("/v1/reservations")["reservations"] == []


def test_long_delivery_ids_that_differ_only_at_the_end_stay_two_deliveries() -> None:
    # a Shopify or WooCommerce delivery id is stored as it is up to 200 characters, by its
    # hash beyond: never cut, so two ids differing past character 200 are two deliveries
    assert _key("k" * 250 + "A") != _key("k" * 250 + "B")
    assert len(_key("k" * 250)) <= 200 and _key("evt-1") == "evt-1"


def test_an_unsigned_ping_is_answered_and_remembered_nowhere(api: Api) -> None:
    api.seed()
    woo_channel(api)
    for n in range(3):
        ping = send(api, "woo", f"webhook_id={n}".encode(), {})
        assert ping.json() | {"event": ""} == {"channel": "woo", "order": "", "event": "",
                                               "status": "ignored", "note": "ping"}  # fmt: skip
        assert "webhook_id" not in ping.text


def test_a_put_without_an_order_secret_keeps_the_one_the_channel_has(api: Api) -> None:
    api.seed()
    woo_channel(api)
    replaced = api.client.put("/v1/channels/woo", json=WOO | {"safety_stock": 2}, headers=ADMIN)
    assert replaced.status_code == 200 and replaced.json()["orders_in"] is True
