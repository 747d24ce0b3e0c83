"""Stock pushed to a WooCommerce shop (tests/server/woo_shop.py: its REST API v3 on loopback,
checking Basic authentication, the batch endpoints and their 100-item limit), through the same
transactional outbox as every channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.support import ADMIN, Api, wait_for
from tests.server.woo_shop import KEY, SECRET, Item, WooShop

EAN = "5901234123457"  # PHC-01


@pytest.fixture
def shop() -> Iterator[WooShop]:
    s = WooShop(["PHC-01", "CLN-200"], {"GUM-12": 77}).start()
    yield s
    s.stop()


def connect(api: Api, shop: WooShop, secret: str = f"{KEY}:{SECRET}", status: int = 200) -> dict:
    body = {"name": "woo", "kind": "woocommerce", "url": shop.url, "secret": secret}
    result: dict = api.post("/v1/channels", body, status=status)
    return result


def state(api: Api) -> dict:
    return dict(api.get("/v1/channels")["channels"][0])


def test_stock_reaches_woocommerce_in_batches_and_variations_through_their_parent(
    api: Api, shop: WooShop
) -> None:
    api.seed()
    connect(api, shop)
    assert wait_for(lambda: state(api)["pending"] == 0)
    assert shop.stock() == {"PHC-01": 0, "CLN-200": 0, "GUM-12": 0}  # manage_stock turned on
    assert ("products/batch", 2) in shop.batches  # the two simple products in one call
    assert ("products/77/variations/batch", 1) in shop.batches
    assert shop.lookups == 3
    for n in (5, 2):
        api.scan("dock", EAN, "receive", "WH1-A-01", qty=n)
    api.scan("hs-1", EAN, "pick", "WH1-A-01", qty=4)
    assert wait_for(lambda: shop.stock()["PHC-01"] == 3 and state(api)["pending"] == 0)
    assert shop.lookups == 3  # the ids were kept: no lookup per push
    assert shop.unauthorized == 0 and state(api)["failures"] == 0


def test_a_product_made_again_in_the_shop_is_looked_up_again(api: Api, shop: WooShop) -> None:
    api.seed()
    connect(api, shop)
    assert wait_for(lambda: state(api)["pending"] == 0)
    shop.delete("PHC-01")
    shop.items[900] = Item(900, "PHC-01")  # deleted and created again: a new id
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=6)
    assert wait_for(lambda: shop.stock()["PHC-01"] == 6, timeout=15)
    assert shop.lookups == 4
    assert state(api)["last_error"].startswith("WooCommerce refused: woocommerce_rest_product_")


def test_more_than_a_batch_of_skus_goes_out_in_calls_of_at_most_100(api: Api) -> None:
    skus = [f"BULK-{n:03d}" for n in range(230)]
    shop = WooShop(skus).start()
    try:
        for sku in skus:
            api.post("/v1/skus", {"sku": sku, "name": sku, "unit_cost": "1.00"})
        connect(api, shop)
        assert wait_for(lambda: state(api)["pending"] == 0, timeout=30)
        assert set(shop.stock().values()) == {0}
        assert max(n for _, n in shop.batches) <= 100 and len(shop.batches) >= 3
    finally:
        shop.stop()


def test_a_wrong_key_a_bad_secret_and_a_rate_limit_are_handled(api: Api, shop: WooShop) -> None:
    err = connect(api, shop, secret="not-a-woocommerce-rest-key", status=422)
    assert "ck_...:cs_..." in str(err)
    api.seed()
    connect(api, shop, secret=f"{KEY}:cs_wrong0000")
    assert wait_for(lambda: state(api)["last_error"].startswith("HTTP 401: "))
    shop.rate_limit = 1  # one request a second, then 429 Retry-After: 1
    fixed = {"kind": "woocommerce", "url": shop.url, "secret": f"{KEY}:{SECRET}"}
    assert api.client.put("/v1/channels/woo", json=fixed, headers=ADMIN).status_code == 200
    assert wait_for(lambda: state(api)["pending"] == 0, timeout=20)
    assert shop.limited >= 1 and shop.stock() == {"PHC-01": 0, "CLN-200": 0, "GUM-12": 0}
