"""Stock pushed to a Shopee shop (tests/server/shopee_shop.py: the Open Platform API v2 on
loopback, checking the signed common parameters and the token lifecycle as Shopee documents
them), through the same transactional outbox as every channel."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.server.shopee_shop import PARTNER_ID, PARTNER_KEY, SHOP_ID, ShopeeShop
from tests.server.support import ADMIN, Api, wait_for

EAN = "5901234123457"  # PHC-01
# PHC-01 and CLN-200 are items without models; GUM-12 is a model of a packs item
ITEMS = {
    1001: {"sku": "PHC-01", "models": {}},
    1002: {"sku": "CLN-200", "models": {}},
    1003: {"sku": "GUM", "models": {77: "GUM-12", 78: "GUM-24"}},
}


@pytest.fixture
def shop() -> Iterator[ShopeeShop]:
    s = ShopeeShop({k: dict(v) for k, v in ITEMS.items()}).start()
    yield s
    s.stop()


def connect(api: Api, shop: ShopeeShop, lifetime: float = 14400) -> None:
    api.post(
        "/v1/channels",
        {"name": "shopee-sg", "kind": "shopee", "url": shop.url, "secret": PARTNER_KEY,
         "settings": {"partner_id": str(PARTNER_ID), "shop_id": str(SHOP_ID)}},
    )  # fmt: skip
    access, refresh = shop.grant(lifetime)
    tokens = {"access_token": access, "refresh_token": refresh, "expires_in": 14400}
    answer = api.client.put("/v1/channels/shopee-sg/tokens", json=tokens, headers=ADMIN)
    assert answer.status_code == 200, answer.text


def state(api: Api) -> dict:
    return dict(api.get("/v1/channels")["channels"][0])


def test_stock_reaches_shopee_items_and_models_with_signed_calls(
    api: Api, shop: ShopeeShop
) -> None:
    api.seed()
    connect(api, shop)
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=9)
    api.scan("hs-1", EAN, "pick", "WH1-A-01", qty=2)
    assert wait_for(lambda: shop.stock.get((1001, 0)) == 7 and state(api)["pending"] == 0)
    assert shop.stock == {(1001, 0): 7, (1002, 0): 0, (1003, 77): 0}  # GUM-24 untouched
    assert shop.lookups == 3 and shop.bad_signs == 0  # each SKU looked up once, every sign good
    assert PARTNER_KEY not in str(api.get("/v1/channels"))


def test_an_expired_access_token_is_refreshed_and_the_new_refresh_token_kept(
    api: Api, shop: ShopeeShop
) -> None:
    api.seed()
    connect(api, shop, lifetime=-1)  # Shopee already refuses it (the ledger thinks 4 h)
    assert wait_for(lambda: state(api)["pending"] == 0)
    assert shop.refreshes == 1  # one refresh for the first push, then the new token
    shop.access.clear()  # every token revoked: the kept refresh token must be the new one
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=3)
    assert wait_for(lambda: shop.stock.get((1001, 0)) == 3)
    assert shop.refreshes == 2 and shop.bad_signs == 0


def test_shopee_settings_and_a_missing_token_are_reported(api: Api, shop: ShopeeShop) -> None:
    bad = api.post(
        "/v1/channels",
        {"name": "shopee-x", "kind": "shopee", "url": shop.url, "secret": PARTNER_KEY,
         "settings": {"partner_id": "abc", "shop_id": str(SHOP_ID)}},
        status=422,
    )  # fmt: skip
    assert "shopee needs partner_id, a number" in str(bad)
    api.seed()
    api.post(
        "/v1/channels",
        {"name": "shopee-sg", "kind": "shopee", "url": shop.url, "secret": PARTNER_KEY,
         "settings": {"partner_id": str(PARTNER_ID), "shop_id": str(SHOP_ID)}},
    )  # fmt: skip
    assert wait_for(lambda: state(api)["failures"] >= 1)
    assert state(api)["last_error"].startswith("no Shopee tokens")


def test_shopees_order_push_reserves_the_orders_items_and_a_cancel_releases_them(
    api: Api, shop: ShopeeShop
) -> None:
    api.seed()
    connect(api, shop)
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=5)
    shop.orders["2412040QX7"] = [
        {"item_sku": "PHC-01", "model_sku": "", "model_quantity_purchased": 2},
        {"item_sku": "GUM", "model_sku": "GUM-12", "model_quantity_purchased": 1},
    ]
    url = "http://testserver/v1/channels/shopee-sg/orders"

    def push(status: str, update_time: int, key: str = PARTNER_KEY) -> Any:
        body = orjson.dumps({"shop_id": SHOP_ID, "code": 3, "timestamp": update_time,
                             "data": {"ordersn": "2412040QX7", "status": status,
                                      "update_time": update_time}})  # fmt: skip
        sig = hmac.new(key.encode(), url.encode() + b"|" + body, hashlib.sha256).hexdigest()
        return api.client.post(url, content=body, headers={"Authorization": sig})

    assert push("UNPAID", 1, key="not-the-partner-key").status_code == 401
    taken = push("UNPAID", 1)
    assert (taken.status_code, taken.content) == (200, b"")  # Shopee wants an empty body
    [line] = [ln for ln in api.get("/v1/reservations/shopee-sg:2412040QX7")["lines"]
              if ln["sku"] == "PHC-01"]  # fmt: skip
    assert (line["qty"], line["reserved"]) == (2, 2)
    assert wait_for(lambda: shop.stock.get((1001, 0)) == 3)  # every channel told at once
    [gum] = api.get("/v1/channels/shopee-sg/oversells")["oversells"]  # no GUM-12 in stock
    assert (gum["sku"], gum["short"]) == ("GUM-12", 1)
    assert push("READY_TO_SHIP", 2).status_code == 200  # nothing reserved twice
    lines = api.get("/v1/reservations/shopee-sg:2412040QX7")["lines"]
    assert {ln["sku"]: ln["reserved"] for ln in lines} == {"PHC-01": 2, "GUM-12": 0}
    assert push("CANCELLED", 3).status_code == 200
    assert api.get("/v1/reservations/shopee-sg:2412040QX7")["status"] == "cancelled"
    assert wait_for(lambda: shop.stock.get((1001, 0)) == 5)


def test_a_shopee_rate_limit_pauses_the_channel_and_every_sku_still_arrives(
    api: Api, shop: ShopeeShop
) -> None:
    shop.per_second = 2
    api.seed()
    connect(api, shop)
    assert wait_for(lambda: state(api)["pending"] == 0, timeout=20)
    assert shop.limited >= 1 and shop.stock == {(1001, 0): 0, (1002, 0): 0, (1003, 77): 0}
