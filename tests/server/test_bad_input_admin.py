"""The admin API refuses out-of-range numbers, bad identifiers, names and URLs with a 422 that
is valid JSON and says what is allowed; oversized bodies get a 413; nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.server.support import ADMIN, GW1, Api

SECRET = "channel-secret-0123456789"
HOOK = "http://127.0.0.1:9/hook"


def post_raw(api: Api, path: str, text: str, method: str = "POST") -> Any:
    headers = ADMIN | {"Content-Type": "application/json"}
    return api.client.request(method, path, content=text.encode(), headers=headers)


def refused_422(response: Any) -> str:
    """The 422 body parses as strict JSON; returns its messages joined."""
    assert response.status_code == 422, response.text
    doc = json.loads(response.text, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    detail = doc["detail"]
    return detail if isinstance(detail, str) else " | ".join(e["msg"] for e in detail)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"sku": "X-1", "unit_cost": NaN}', "finite number"),
        ('{"sku": "X-1", "unit_cost": Infinity}', "finite number"),
        ('{"sku": "X-1", "unit_cost": "1e400"}', "less than or equal to 1000000000"),
        ('{"sku": "X-1", "unit_cost": "1e30"}', "less than or equal to 1000000000"),
        ('{"sku": "X-1", "unit_cost": -1}', "greater than or equal to 0"),
        ('{"sku": "X-1", "unit_cost": "0.00001"}', "4 decimal places"),
        ('{"sku": "X-1", "reorder_point": 100000000000000000000}', "less than or equal"),
        ('{"sku": "X-1", "reorder_qty": -5}', "greater than or equal to 0"),
        ('{"sku": "X-1", "gtins": [{"gtin": "15901234123454", "multiplier": 0}]}', "greater"),
        ('{"sku": "X-1", "gtins": [{"gtin": "15901234123454", "multiplier": 1000001}]}', "less"),
        ('{"sku": "X-1", "name": "' + "n" * 201 + '"}', "at most 200 characters"),
        ('{"sku": "X-1", "name": "tab\\there"}', "control characters"),
        ('{"sku": "X-1", "name": "\\ud800"}', "not valid UTF-8"),
    ],
)
def test_a_sku_with_an_out_of_range_or_malformed_field_is_a_422(
    api: Api, body: str, message: str
) -> None:
    assert message in refused_422(post_raw(api, "/v1/skus", body))
    assert api.get("/v1/skus")["skus"] == []


def test_the_bounds_themselves_are_accepted(api: Api) -> None:
    case = {"gtin": "15901234123454", "multiplier": 1_000_000}
    sku = api.post("/v1/skus", {"sku": "X-1", "name": "n" * 200, "unit_cost": "1000000000",
                                "reorder_point": 0, "reorder_qty": 1_000_000_000,
                                "gtins": [case]})  # fmt: skip
    assert (sku["unit_cost"], sku["reorder_qty"]) == ("1000000000.00", 1_000_000_000)
    assert api.post("/v1/skus", {"sku": "X-2", "unit_cost": "0.1234"})["unit_cost"] == "0.12"


@pytest.mark.parametrize(
    "bad", ["", "   ", "A\x00B", "A\x1fB", "A/B", "x" * 65, " A", "A ", "\ud800"]
)
def test_a_bad_identifier_is_a_422_wherever_it_appears(api: Api, bad: str) -> None:
    api.seed()
    before = api.get("/v1/skus")
    bodies = [
        ("/v1/skus", {"sku": bad}),
        ("/v1/locations", {"code": bad}),
        ("/v1/locations", {"code": "WH9", "parent": bad}),
        ("/v1/stocktakes", {"ref": bad, "lines": []}),
        ("/v1/stocktakes", {"ref": "ST-1", "lines": [{"sku": bad, "loc": "WH1-A-01", "qty": 1}]}),
        ("/v1/purchase-orders", {"ref": bad, "lines": [{"sku": "PHC-01", "qty": 1}]}),
        ("/v1/purchase-orders", {"ref": "PO-1", "lines": [{"sku": bad, "qty": 1}]}),
        ("/v1/channels", {"name": bad, "url": HOOK, "secret": SECRET}),
        ("/v1/channels", {"name": "shop", "url": HOOK, "secret": SECRET, "locations": [bad]}),
    ]
    for path, body in bodies:
        assert "identifier" in refused_422(post_raw(api, path, json.dumps(body))), (path, body)
    assert api.get("/v1/skus") == before
    assert api.get("/v1/channels")["channels"] == []
    if bad != "\ud800":  # a query string cannot even carry a lone surrogate
        stock = api.client.get("/v1/stock", params={"sku": bad}, headers=ADMIN)
        assert "identifier" in refused_422(stock)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/stocktakes",
            {"ref": "ST-1", "lines": [{"sku": "PHC-01", "loc": "WH1-A-01", "qty": 10**20}]},
        ),
        (
            "/v1/stocktakes",
            {"ref": "ST-1", "lines": [{"sku": "PHC-01", "loc": "WH1-A-01", "qty": -1}]},
        ),
        ("/v1/purchase-orders", {"ref": "PO-1", "lines": [{"sku": "PHC-01", "qty": 10**10}]}),
        ("/v1/purchase-orders", {"ref": "PO-1", "lines": [{"sku": "PHC-01", "qty": 0}]}),
        (
            "/v1/purchase-orders",
            {"ref": "PO-1", "lines": [{"sku": "PHC-01", "qty": 1, "unit_cost": "1e400"}]},
        ),
        ("/v1/skus/PHC-01/gtins", {"gtin": "15901234123454", "multiplier": 10**20}),
        ("/v1/channels", {"name": "shop", "url": HOOK, "secret": SECRET, "safety_stock": -1}),
    ],
)
def test_a_huge_or_negative_quantity_is_a_422_and_writes_nothing(
    api: Api, path: str, body: dict[str, Any]
) -> None:
    api.seed()
    refused_422(post_raw(api, path, json.dumps(body)))
    assert api.get("/v1/stock")["stock"] == []
    assert api.client.get("/v1/purchase-orders/PO-1", headers=ADMIN).status_code == 404
    assert all(len(s["gtins"]) == 1 for s in api.get("/v1/skus")["skus"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=-1", "greater than or equal to 1"),
        ("limit=0", "greater than or equal to 1"),
        ("limit=10001", "less than or equal to 10000"),
        ("limit=1e30", "valid integer"),
        ("status=lost", "'booked' or 'refused'"),
    ],
)
def test_scan_event_filters_out_of_range_are_a_422(api: Api, query: str, message: str) -> None:
    response = api.client.get(f"/v1/scan-events?{query}", headers=ADMIN)
    assert message in refused_422(response)


def test_quarantine_ids_and_filters_are_bounded(api: Api) -> None:
    huge = api.client.post("/v1/quarantine/99999999999999999999999/replay", headers=ADMIN)
    assert "less than or equal" in refused_422(huge)
    missing = api.client.post("/v1/quarantine/99999/replay", headers=ADMIN)
    assert missing.status_code == 404
    bad = api.client.get("/v1/quarantine?status=gone", headers=ADMIN)
    assert "'open' or 'replayed'" in refused_422(bad)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "not a url",
        "http://",
        "ftp://example.com/x",
        "https://exa mple.com/",
        "http://host:99999/x",
        "javascript:alert(1)",
    ],
)
def test_a_channel_url_must_be_http_with_a_host(api: Api, url: str) -> None:
    body = {"name": "shop", "url": url, "secret": SECRET}
    assert "url" in refused_422(post_raw(api, "/v1/channels", json.dumps(body)))
    assert api.get("/v1/channels")["channels"] == []


def test_a_body_over_the_limit_is_a_413_and_batches_get_a_larger_one(api: Api) -> None:
    api.seed()
    big_name = {"sku": "X-1", "name": "n" * (4 * 1024 * 1024)}
    too_big = post_raw(api, "/v1/skus", json.dumps(big_name))
    assert too_big.status_code == 413 and too_big.json()["reason"] == "too large"
    headers = GW1 | {"Content-Type": "application/json"}
    padding = {"gateway": "gw-1", "events": [], "pad": "p" * (6 * 1024 * 1024)}
    fits = api.client.post("/v1/scan-batches", content=json.dumps(padding), headers=headers)
    assert fits.status_code == 200 and fits.json() == {"results": []}
    padding["pad"] = "p" * (9 * 1024 * 1024)
    over = api.client.post("/v1/scan-batches", content=json.dumps(padding), headers=headers)
    assert over.status_code == 413


def test_posting_an_existing_channel_is_a_409_and_put_replaces_it(api: Api) -> None:
    body = {"name": "shop", "url": HOOK, "secret": SECRET}
    api.post("/v1/channels", body)
    conflict = post_raw(api, "/v1/channels", json.dumps(body | {"url": "http://evil.test/"}))
    assert conflict.status_code == 409 and conflict.json()["reason"] == "channel exists"
    assert api.get("/v1/channels")["channels"][0]["url"] == HOOK
    replaced = post_raw(api, "/v1/channels/shop", json.dumps(body | {"safety_stock": 3}), "PUT")
    assert replaced.status_code == 200 and replaced.json()["safety_stock"] == 3
    created = post_raw(api, "/v1/channels/outlet", json.dumps({"url": HOOK, "secret": SECRET}),
                       "PUT")  # fmt: skip
    assert created.status_code == 200 and created.json()["name"] == "outlet"
    mismatch = post_raw(api, "/v1/channels/shop", json.dumps(body | {"name": "other"}), "PUT")
    assert mismatch.status_code == 422 and mismatch.json()["reason"] == "name mismatch"
    assert [c["name"] for c in api.get("/v1/channels")["channels"]] == ["outlet", "shop"]


def test_a_gtin_reposted_with_another_multiplier_is_a_409(api: Api) -> None:
    api.seed()
    case = {"gtin": "15901234123454", "multiplier": 12}
    api.post("/v1/skus/PHC-01/gtins", case)
    assert api.post("/v1/skus/PHC-01/gtins", case)["gtins"][1]["multiplier"] == 12  # same: ok
    response = post_raw(api, "/v1/skus/PHC-01/gtins", json.dumps(case | {"multiplier": 24}))
    assert response.status_code == 409 and response.json()["reason"] == "multiplier differs"
    [phc] = [s for s in api.get("/v1/skus")["skus"] if s["sku"] == "PHC-01"]
    assert {"gtin": "15901234123454", "multiplier": 12} in phc["gtins"]
