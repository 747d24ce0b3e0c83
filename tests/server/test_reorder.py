"""Reorder points per SKU and per location: one open alert per rule, the draft purchase order
it raises for the supplier, and how it closes (received, recovered, rule removed)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from server.app import open_database
from server.catalog.service import GtinIn, SkuIn, upsert
from server.counts.stocktake import apply
from server.ingest.service import process_batch
from server.ledger.check import check
from server.locations.service import upsert as add_location
from server.purchasing.service import list_all
from server.reorder.service import alerts
from server.suppliers.service import SupplierIn
from server.suppliers.service import upsert as add_supplier
from tests.server.purchasing_support import EAN_PHC, GTIN_CLN, opening, put, seed
from tests.server.support import Api, scan

NO_SUPPLIER = "no supplier: set the SKU's supplier to get a draft purchase order"


def open_alerts(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get("/v1/reorder-alerts")["alerts"]
    return found


def every_alert(api: Api) -> list[tuple[str, str | None, str | None, str | None]]:
    """(sku, loc, closed_reason, po) of every alert, oldest first."""
    return [
        (a["sku"], a["loc"], a["closed_reason"], a["po"])
        for a in api.get("/v1/reorder-alerts", all=1)["alerts"]
    ]


def pick(api: Api, qty: int = 1, loc: str = "WH1-A-01", code: str = GTIN_CLN) -> None:
    assert api.scan("hs-01", code, "pick", loc, qty=qty)["status"] == "booked"


def receive(api: Api, qty: int, ref: str = "", code: str = GTIN_CLN) -> None:
    assert api.scan("dock", code, "receive", "WH1-A-01", ref, qty=qty)["status"] == "booked"


def test_falling_to_the_point_raises_one_alert_with_a_draft_order_for_the_supplier(
    api: Api,
) -> None:
    seed(api)  # CLN-200: point 30, qty 100, 4.00, supplier ACME (7 days)
    opening(api, "CLN-200", "WH1-A-01", 31)
    pick(api)
    [alert] = open_alerts(api)
    assert {k: alert[k] for k in ("sku", "loc", "available", "reorder_point", "suggested_qty",
                                  "po", "po_status", "note")} == {
        "sku": "CLN-200", "loc": None, "available": 30, "reorder_point": 30,
        "suggested_qty": 100, "po": "RO-CLN-200-1", "po_status": "draft", "note": "",
    }  # fmt: skip
    draft = api.get("/v1/purchase-orders/RO-CLN-200-1")
    assert (draft["status"], draft["supplier"], draft["note"]) == (
        "draft", "ACME", "reorder: CLN-200 at all locations is 30, point 30")  # fmt: skip
    assert [(x["sku"], x["ordered"], x["unit_cost"]) for x in draft["lines"]] == [
        ("CLN-200", 100, "4.00")]  # fmt: skip
    created = date.fromisoformat(draft["created_at"][:10])
    assert date.fromisoformat(draft["expected_on"]) == created + timedelta(days=7)

    pick(api, 4)
    [still] = open_alerts(api)
    assert (still["id"], still["available"], still["po"]) == (alert["id"], 26, "RO-CLN-200-1")
    assert [p["ref"] for p in api.get("/v1/purchase-orders")["purchase_orders"]] == ["RO-CLN-200-1"]


def test_the_alert_closes_when_its_order_arrives_and_stays_quiet_while_that_order_is_open(
    api: Api,
) -> None:
    seed(api)
    opening(api, "CLN-200", "WH1-A-01", 31)
    pick(api, 6)  # 25
    api.post("/v1/purchase-orders/RO-CLN-200-1/submit")
    receive(api, 3, "RO-CLN-200-1")  # 28: still at or below 30, but the order is arriving
    assert open_alerts(api) == []
    assert every_alert(api) == [("CLN-200", None, "received", "RO-CLN-200-1")]
    closed = api.get("/v1/reorder-alerts", all=1)["alerts"][0]
    assert (closed["available"], closed["po_status"]) == (28, "partially_received")
    pick(api)
    assert open_alerts(api) == []  # not raised again while RO-CLN-200-1 is open

    api.post("/v1/purchase-orders/RO-CLN-200-1/close")
    pick(api)  # 26: the order is closed, the rule is breached: a new alert and a new draft
    assert [(a["available"], a["po"]) for a in open_alerts(api)] == [(26, "RO-CLN-200-2")]


def test_recovering_above_the_point_closes_the_alert_and_cancels_its_unsubmitted_draft(
    api: Api,
) -> None:
    seed(api)
    opening(api, "CLN-200", "WH1-A-01", 31)
    pick(api)
    receive(api, 5)  # bought elsewhere, no PO: 35
    assert open_alerts(api) == []
    assert every_alert(api) == [("CLN-200", None, "recovered", "RO-CLN-200-1")]
    cancelled = api.get("/v1/purchase-orders/RO-CLN-200-1")
    assert (cancelled["status"], cancelled["note"]) == (
        "cancelled", "withdrawn: reorder alert closed (recovered)")  # fmt: skip
    pick(api, 5)
    assert [a["po"] for a in open_alerts(api)] == ["RO-CLN-200-2"]


def test_a_submitted_order_keeps_the_rule_quiet_after_the_stock_recovered(api: Api) -> None:
    seed(api)
    opening(api, "CLN-200", "WH1-A-01", 31)
    pick(api)
    api.post("/v1/purchase-orders/RO-CLN-200-1/submit")
    receive(api, 10)  # 40, without the PO
    assert every_alert(api) == [("CLN-200", None, "recovered", "RO-CLN-200-1")]
    assert api.get("/v1/purchase-orders/RO-CLN-200-1")["status"] == "open"
    pick(api, 15)  # 25
    assert open_alerts(api) == []
    receive(api, 100, "RO-CLN-200-1")  # 125: received in full, the order is done
    pick(api, 100)  # 25 again: now a new alert may be raised
    assert [a["po"] for a in open_alerts(api)] == ["RO-CLN-200-2"]


def test_a_sku_without_a_supplier_gets_an_alert_with_a_note_and_no_order(api: Api) -> None:
    seed(api, supplier=False)
    opening(api, "CLN-200", "WH1-A-01", 30)
    [alert] = open_alerts(api)
    assert (alert["po"], alert["po_status"], alert["note"]) == (None, None, NO_SUPPLIER)
    assert api.get("/v1/purchase-orders")["purchase_orders"] == []


def test_a_location_rule_watches_its_location_and_everything_under_it(api: Api) -> None:
    seed(api)
    for loc in (
        {"code": "S1", "kind": "site"},
        {"code": "WH9", "kind": "warehouse", "parent": "S1"},
        {"code": "WH9-A", "kind": "zone", "parent": "WH9"},
        {"code": "WH9-A-01", "parent": "WH9-A"},
        {"code": "WH9-A-02", "parent": "WH9-A"},
    ):
        api.post("/v1/locations", loc)  # fmt: skip
    opening(api, "PHC-01", "WH9-A-01", 4, "O1")
    opening(api, "PHC-01", "WH9-A-02", 3, "O2")
    opening(api, "PHC-01", "WH1-A-01", 50, "O3")
    rules = put(api, "/v1/skus/PHC-01/reorder", {"point": 5, "qty": 20, "loc": "WH9"})
    assert (rules["rules"], rules["alerts"]) == ([{"loc": "WH9", "point": 5, "qty": 20}], [])

    pick(api, 2, "WH9-A-02", EAN_PHC)  # 5 under WH9
    [alert] = open_alerts(api)
    assert (alert["sku"], alert["loc"], alert["available"], alert["po"]) == (
        "PHC-01", "WH9", 5, "RO-PHC-01-1")  # fmt: skip
    assert api.get("/v1/purchase-orders/RO-PHC-01-1")["lines"][0]["ordered"] == 20

    pick(api, 1, "WH1-A-01", EAN_PHC)  # elsewhere: the WH9 alert does not move
    assert [a["available"] for a in open_alerts(api)] == [5]

    wide = put(api, "/v1/skus/PHC-01/reorder", {"point": 60, "qty": 100})  # 54 in all: breached
    assert wide["rules"] == [{"loc": None, "point": 60, "qty": 100},
                             {"loc": "WH9", "point": 5, "qty": 20}]  # fmt: skip
    assert [(a["loc"], a["available"], a["po"]) for a in wide["alerts"]] == [
        ("WH9", 5, "RO-PHC-01-1"), (None, 54, "RO-PHC-01-2")]  # fmt: skip
    assert api.get("/v1/skus/PHC-01/reorder") == wide

    opening(api, "PHC-01", "WH9-A-01", 14, "O4")  # WH9: 15, all: 64
    assert every_alert(api) == [("PHC-01", "WH9", "recovered", "RO-PHC-01-1"),
                                ("PHC-01", None, "recovered", "RO-PHC-01-2")]  # fmt: skip


def test_removing_a_rule_closes_its_alert_and_cancels_its_draft(api: Api) -> None:
    seed(api)
    put(api, "/v1/skus/PHC-01/reorder", {"point": 5, "qty": 20, "loc": "WH2-A-01"})
    assert [a["loc"] for a in open_alerts(api)] == ["WH2-A-01"]  # 0 there: raised at once
    gone = put(api, "/v1/skus/PHC-01/reorder", {"point": None, "loc": "WH2-A-01"})
    assert (gone["rules"], gone["alerts"]) == ([], [])
    assert every_alert(api) == [("PHC-01", "WH2-A-01", "rule removed", "RO-PHC-01-1")]
    assert api.get("/v1/purchase-orders/RO-PHC-01-1")["status"] == "cancelled"
    put(api, "/v1/skus/CLN-200/reorder", {"point": None})
    assert api.get("/v1/skus")["skus"][0]["reorder_point"] is None
    missing = put(api, "/v1/skus/PHC-01/reorder", {"point": 1, "loc": "NOWHERE"}, status=422)
    assert missing["reason"] == "unknown location"
    assert put(api, "/v1/skus/NOPE/reorder", {"point": 1}, status=404)["reason"] == "unknown sku"


def test_safety_stock_is_not_available_to_the_reorder_point(api: Api) -> None:
    seed(api)
    opening(api, "CLN-200", "WH1-A-01", 35)
    assert open_alerts(api) == []
    put(api, "/v1/skus/CLN-200/safety-stock", {"qty": 5})
    assert [a["available"] for a in open_alerts(api)] == [30]


def test_parallel_transfers_from_different_bins_open_one_alert_and_one_draft(
    db_url: str,
) -> None:
    """Each transfer alone takes 32 to 30, so every one of them would raise the alert; they
    share no balance row (each has its own in-transit location)."""
    bins = [f"WH1-A-{i:02}" for i in range(1, 9)]

    async def go() -> None:
        db = await open_database(db_url)
        try:
            await db.write(add_supplier, SupplierIn("ACME", lead_time_days=3))
            item = SkuIn("CLN-200", unit_cost=Decimal("4"), reorder_point=30, reorder_qty=100,
                         gtins=(GtinIn(GTIN_CLN),), supplier="ACME")  # fmt: skip
            await db.write(upsert, item)
            for code in bins:
                await db.write(add_location, code, None)
            await db.write(apply, "OPEN", [("CLN-200", code, 4) for code in bins])  # 32
            batches = [[scan(f"hs-{i}", 1, GTIN_CLN, "transfer-out", code, f"TR-{i}", qty=2)]
                       for i, code in enumerate(bins)]  # fmt: skip
            done = await asyncio.gather(*(process_batch(db, "gw-1", b) for b in batches))
            assert [r.status for results in done for r in results] == ["booked"] * len(bins)
            found = await db.read(alerts)
            assert [(a["available"], a["po"]) for a in found] == [(16, "RO-CLN-200-1")]
            assert [p["ref"] for p in await db.read(list_all)] == ["RO-CLN-200-1"]
            assert await db.read(check) == []
        finally:
            await db.dispose()

    asyncio.run(go())
