"""Stock pushed to a Shopify shop (tests/server/shopify_shop.py: the Admin GraphQL API on
loopback, checking authentication, the calls' shape and the cost bucket as Shopify documents
them), through the same transactional outbox as the webhook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.shopify_shop import LOCATION, Shop
from tests.server.support import Api, wait_for

TOKEN = "shpat_0123456789abcdef0123456789abcdef"
EAN = "5901234123457"  # PHC-01
SKUS = ["PHC-01", "CLN-200", "GUM-12"]


@pytest.fixture
def shop() -> Iterator[Shop]:
    s = Shop(TOKEN, SKUS).start()
    yield s
    s.stop()


def connect(api: Api, shop: Shop, status: int = 200, **extra: object) -> dict:
    body = {
        "name": "shopify-eu",
        "kind": "shopify",
        "url": shop.url,
        "secret": TOKEN,
        "locations": "all",
        "settings": {"location_id": LOCATION},
    } | extra
    result: dict = api.post("/v1/channels", body, status=status)
    return result


def channel_state(api: Api) -> dict:
    [state] = api.get("/v1/channels")["channels"]
    return dict(state)


def test_stock_is_set_on_shopify_with_compare_and_set_and_an_idempotency_key(
    api: Api, shop: Shop
) -> None:
    api.seed()
    connect(api, shop)
    for n in (4, 6):
        api.scan("dock", EAN, "receive", "WH1-A-01", qty=n)
    api.scan("hs-1", EAN, "pick", "WH1-A-01", qty=3)
    assert wait_for(lambda: shop.levels["PHC-01"] == 7 and channel_state(api)["pending"] == 0)
    assert shop.levels == {"PHC-01": 7, "CLN-200": 0, "GUM-12": 0}
    sets = [s for s in shop.sets if s.sku == "PHC-01"]
    # each set expected what the one before left (the first: what the shop held), so none of
    # them could overwrite a change made on Shopify in between
    assert [s.change_from for s in sets[1:]] == [s.quantity for s in sets[:-1]]
    assert sets[0].change_from == 0
    assert len({s.key for s in shop.sets}) == len(shop.sets)  # a new key for each set
    assert sets[-1].reference.startswith("logistics://stockwire/shopify-eu/PHC-01/v")
    assert shop.versions == {"2026-10"} and shop.unauthorized == 0 and shop.stale == 0
    state = channel_state(api)
    assert state["failures"] == 0 and state["lag_s"] == 0
    assert state["settings"] == {"location_id": LOCATION}
    assert TOKEN not in str(api.get("/v1/channels"))  # the token is never shown


def test_an_order_on_shopify_between_our_read_and_our_set_is_read_again_not_overwritten_blindly(
    api: Api, shop: Shop
) -> None:
    api.seed()
    connect(api, shop)
    assert wait_for(lambda: channel_state(api)["pending"] == 0)
    orders = []

    def order_first(s: Shop, sku: str) -> None:
        if sku == "PHC-01" and not orders:
            orders.append(sku)
            s.levels[sku] = (s.levels[sku] or 0) + 5  # e.g. a restock booked by hand there

    shop.before_set = order_first
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=9)
    assert wait_for(lambda: shop.levels["PHC-01"] == 9 and channel_state(api)["pending"] == 0)
    assert shop.stale == 1  # refused once, read again, then set from what Shopify held
    last = [s for s in shop.sets if s.sku == "PHC-01"][-1]
    assert (last.change_from, last.quantity) == (5, 9)


def test_the_cost_bucket_throttles_and_the_channel_waits_as_shopify_says_losing_nothing(
    api: Api,
) -> None:
    shop = Shop(TOKEN, SKUS, capacity=25, restore=25).start()
    try:
        api.seed()
        connect(api, shop)
        for n in range(1, 4):
            api.scan("dock", EAN, "receive", "WH1-A-01", qty=n)
        assert wait_for(lambda: shop.levels["PHC-01"] == 6 and channel_state(api)["pending"] == 0)
        assert shop.throttled >= 1  # it happened, and every level still arrived
        assert shop.levels == {"PHC-01": 6, "CLN-200": 0, "GUM-12": 0}
    finally:
        shop.stop()


def test_a_wrong_token_and_an_unknown_sku_are_reported_per_channel(api: Api) -> None:
    shop = Shop("another-token", SKUS).start()
    try:
        api.seed()
        connect(api, shop)
        assert wait_for(lambda: channel_state(api)["failures"] >= 1)
        assert channel_state(api)["last_error"].startswith("HTTP 401: ")
        assert shop.sets == []
    finally:
        shop.stop()
    partial = Shop(TOKEN, ["PHC-01", "CLN-200"]).start()  # GUM-12 is not on this shop
    try:
        api.post(
            "/v1/channels",
            {"name": "shopify-uk", "kind": "shopify", "url": partial.url, "secret": TOKEN,
             "settings": {"location_id": LOCATION}},
        )  # fmt: skip

        def uk() -> dict:
            return dict(next(c for c in api.get("/v1/channels")["channels"] if "uk" in c["name"]))

        assert wait_for(lambda: uk()["failures"] >= 1 and uk()["pending"] == 1)
        assert uk()["last_error"] == "no Shopify variant with SKU 'GUM-12'"
        assert {s.sku for s in partial.sets} == {"PHC-01", "CLN-200"}
    finally:
        partial.stop()


def test_shopify_settings_are_checked(api: Api, shop: Shop) -> None:
    for settings, words in (
        ({}, "shopify needs location_id"),
        ({"location_id": "7001"}, "shopify needs location_id"),
        ({"location_id": LOCATION, "api_version": "2026-13"}, "api_version '2026-13'"),
        ({"location_id": LOCATION, "shop": "x"}, "shopify takes no shop"),
    ):
        err = connect(api, shop, status=422, settings=settings)
        assert words in str(err), err
    err = api.post(
        "/v1/channels",
        {"name": "hook", "url": shop.url, "secret": TOKEN, "settings": {"location_id": "x"}},
        status=422,
    )
    assert "webhook takes no location_id" in str(err)
