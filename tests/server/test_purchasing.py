"""Suppliers, purchase orders from draft to received or closed, receipts by API and by scan
(over and short flagged), the unit cost every receipt records, and invoice cost revisions."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from server.app import open_database
from server.catalog.service import SkuIn, upsert
from server.cli import add_commands
from server.ledger.check import check
from server.locations.service import upsert as add_location
from server.purchasing import receiving, service
from server.purchasing.service import LineIn, PoIn
from tests.server.purchasing_support import ACME, EAN_GUM, EAN_PHC, GTIN_CLN, seed, sql
from tests.server.support import ADMIN, Api


def po(api: Api, ref: str = "PO-1", submit: bool = True, **extra: Any) -> dict[str, Any]:
    lines = [{"sku": "CLN-200", "qty": 100, "unit_cost": "3.90"}, {"sku": "PHC-01", "qty": 50}]
    body = {"ref": ref, "supplier": "ACME", "submit": submit, "lines": lines} | extra
    doc: dict[str, Any] = api.post("/v1/purchase-orders", body)
    return doc


def receipt(api: Api, ref: str, *lines: tuple[str, int], status: int = 200, **kw: Any) -> Any:
    body = {"lines": [{"sku": sku, "qty": qty, "loc": "WH1-A-01"} | kw for sku, qty in lines]}
    return api.post(f"/v1/purchase-orders/{ref}/receipts", body, status=status)


def lines(doc: dict[str, Any]) -> dict[str, tuple[int, int, int, int, str | None]]:
    return {
        x["sku"]: (x["ordered"], x["received"], x["over"], x["short"], x["flag"])
        for x in doc["lines"]
    }


def test_a_supplier_is_created_listed_updated_and_named_by_a_sku(api: Api) -> None:
    created = api.post("/v1/suppliers", ACME)
    assert {k: created[k] for k in ACME} == ACME
    api.post("/v1/suppliers", ACME | {"lead_time_days": 10, "currency": None})
    assert [(s["code"], s["lead_time_days"], s["currency"]) for s in
            api.get("/v1/suppliers")["suppliers"]] == [("ACME", 10, None)]  # fmt: skip
    assert api.get("/v1/suppliers/ACME")["name"] == "Acme Cosmetics"
    assert api.client.get("/v1/suppliers/NOPE", headers=ADMIN).status_code == 404

    sku = api.post("/v1/skus", {"sku": "X-1", "supplier": "ACME"})
    assert sku["supplier"] == "ACME"
    assert api.post("/v1/skus", {"sku": "X-1", "name": "renamed"})["supplier"] == "ACME"
    assert api.post("/v1/skus", {"sku": "X-1", "supplier": ""})["supplier"] is None
    missing = api.post("/v1/skus", {"sku": "X-1", "supplier": "NOPE"}, status=404)
    assert missing["reason"] == "unknown supplier"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/suppliers", {"code": "S", "lead_time_days": -1}),
        ("/v1/suppliers", {"code": "S", "lead_time_days": 3651}),
        ("/v1/suppliers", {"code": "S", "currency": "euro"}),
        ("/v1/purchase-orders", {"ref": "PO-1", "lines": []}),
        ("/v1/purchase-orders", {"ref": "PO-1", "lines": [{"sku": "PHC-01", "qty": 1,
                                                           "unit_cost": "-1"}]}),
        ("/v1/purchase-orders/PO-1/receipts", {"lines": [{"sku": "PHC-01", "qty": 0,
                                                          "loc": "WH1-A-01"}]}),
        ("/v1/purchase-orders/PO-1/lines/PHC-01/invoice", {"unit_cost": "0.00001"}),
    ],
)  # fmt: skip
def test_out_of_range_purchasing_input_is_a_422(api: Api, path: str, body: Any) -> None:
    seed(api)
    po(api)
    assert api.post(path, body, status=422)["reason"] == "invalid request"


def test_a_purchase_order_starts_as_a_draft_expected_after_the_suppliers_lead_time(
    api: Api,
) -> None:
    seed(api)
    doc = po(api, submit=False)
    assert (doc["status"], doc["supplier"], doc["currency"], doc["submitted_at"]) == (
        "draft", "ACME", "EUR", None)  # fmt: skip
    created = date.fromisoformat(doc["created_at"][:10])
    assert date.fromisoformat(doc["expected_on"]) == created + timedelta(days=7)
    assert [(x["sku"], x["ordered"], x["unit_cost"]) for x in doc["lines"]] == [
        ("CLN-200", 100, "3.90"), ("PHC-01", 50, "2.00")]  # fmt: skip
    given = po(api, "PO-2", expected_on="2031-01-15", note="spring")
    assert (given["expected_on"], given["note"], given["status"]) == (
        "2031-01-15",
        "spring",
        "open",
    )
    again = api.post("/v1/purchase-orders", {"ref": "PO-1", "lines": [{"sku": "PHC-01", "qty": 1}]},
                     status=409)  # fmt: skip
    assert again["reason"] == "purchase order exists"
    unknown = {"ref": "PO-3", "supplier": "NOPE", "lines": [{"sku": "PHC-01", "qty": 1}]}
    assert api.post("/v1/purchase-orders", unknown, status=404)["reason"] == "unknown supplier"


def test_a_draft_is_received_neither_by_api_nor_by_scan_until_it_is_submitted(api: Api) -> None:
    seed(api)
    po(api, submit=False)
    refused = receipt(api, "PO-1", ("PHC-01", 5), status=422)
    assert refused["reason"] == "purchase order draft"
    assert refused["detail"] == "purchase order draft: PO-1 is a draft: submit it first"
    assert api.scan("dock", EAN_PHC, "receive", "WH1-A-01", "PO-1")["reason"] == (
        "purchase order draft"
    )
    assert api.on_hand("PHC-01") == 0
    assert api.post("/v1/purchase-orders/PO-1/submit")["status"] == "open"
    assert api.post("/v1/purchase-orders/PO-1/submit", status=409)["reason"] == "not a draft"
    assert api.scan("dock", EAN_PHC, "receive", "WH1-A-01", "PO-1", qty=5)["status"] == "booked"
    assert api.on_hand("PHC-01", "WH1-A-01") == 5


def test_receipts_fill_the_lines_and_the_order_closes_itself_when_complete(api: Api) -> None:
    seed(api)
    po(api)
    doc = receipt(api, "PO-1", ("CLN-200", 60), lot="L1", expiry="2027-06-30")
    assert doc["status"] == "partially_received"
    assert lines(doc) == {"CLN-200": (100, 60, 0, 0, None), "PHC-01": (50, 0, 0, 0, None)}
    assert [(r["sku"], r["qty"], r["loc"], r["lot"], r["expiry"], r["unit_cost"])
            for r in doc["receipts"]] == [
        ("CLN-200", 60, "WH1-A-01", "L1", "2027-06-30", "3.90")]  # fmt: skip
    api.scan("dock", GTIN_CLN, "receive", "WH1-A-02", "PO-1", qty=40)
    doc = receipt(api, "PO-1", ("PHC-01", 50))
    assert (doc["status"], doc["flags"]) == ("received", [])
    assert doc["closed_at"] is not None
    assert [x["outstanding"] for x in doc["lines"]] == [0, 0]
    assert [(r["sku"], r["qty"], r["event_id"] is not None) for r in doc["receipts"]] == [
        ("CLN-200", 60, False), ("CLN-200", 40, True), ("PHC-01", 50, False)]  # fmt: skip
    assert api.on_hand_map() == {"CLN-200": {"WH1-A-01": 60, "WH1-A-02": 40},
                                 "PHC-01": {"WH1-A-01": 50}}  # fmt: skip
    refused = receipt(api, "PO-1", ("PHC-01", 1), status=422)
    assert refused["reason"] == "purchase order received"
    assert api.scan("dock", EAN_PHC, "receive", "WH1-A-01", "PO-1")["reason"] == (
        "purchase order received"
    )


def test_an_over_receipt_is_booked_and_flagged_with_the_quantity_over(api: Api) -> None:
    seed(api)
    po(api)
    doc = receipt(api, "PO-1", ("PHC-01", 56))
    assert (doc["status"], doc["flags"]) == ("partially_received", ["over"])
    assert lines(doc)["PHC-01"] == (50, 56, 6, 0, "over")
    assert api.on_hand("PHC-01") == 56
    doc = receipt(api, "PO-1", ("CLN-200", 100))
    assert (doc["status"], lines(doc)["PHC-01"]) == ("received", (50, 56, 6, 0, "over"))


def test_closing_by_hand_flags_short_lines_and_refuses_further_receipts(api: Api) -> None:
    seed(api)
    po(api)
    receipt(api, "PO-1", ("CLN-200", 70), ("PHC-01", 50))
    doc = api.post("/v1/purchase-orders/PO-1/close", {"note": "supplier out of stock"})
    assert (doc["status"], doc["flags"], doc["note"]) == (
        "closed",
        ["short"],
        "supplier out of stock",
    )
    assert lines(doc) == {"CLN-200": (100, 70, 0, 30, "short"), "PHC-01": (50, 50, 0, 0, None)}
    assert receipt(api, "PO-1", ("CLN-200", 1), status=422)["reason"] == "purchase order closed"
    assert api.scan("dock", GTIN_CLN, "receive", "WH1-A-01", "PO-1")["reason"] == (
        "purchase order closed"
    )
    assert api.post("/v1/purchase-orders/PO-1/close", status=409)["reason"] == (
        "purchase order closed"
    )
    assert api.on_hand("CLN-200") == 70


def test_closing_a_draft_cancels_it(api: Api) -> None:
    seed(api)
    po(api, submit=False)
    doc = api.post("/v1/purchase-orders/PO-1/close")
    assert (doc["status"], doc["flags"]) == ("cancelled", [])
    assert receipt(api, "PO-1", ("PHC-01", 1), status=422)["detail"] == (
        "purchase order closed: PO-1 was cancelled"
    )
    assert api.post("/v1/purchase-orders/PO-1/submit", status=409)["reason"] == "not a draft"


def test_a_sku_not_on_the_order_is_refused_and_nothing_of_the_receipt_is_booked(
    api: Api,
) -> None:
    seed(api)
    po(api)
    refused = receipt(api, "PO-1", ("PHC-01", 5), ("GUM-12", 1), status=422)
    assert (refused["reason"], refused["detail"]) == (
        "not on purchase order", "not on purchase order: PO-1 has no line for GUM-12")  # fmt: skip
    assert api.scan("dock", EAN_GUM, "receive", "WH1-A-01", "PO-1")["reason"] == (
        "not on purchase order"
    )
    assert api.scan("dock", EAN_PHC, "receive", "WH1-A-01", "PO-9")["reason"] == (
        "unknown reference"
    )
    assert receipt(api, "PO-9", ("PHC-01", 1), status=404)["reason"] == "unknown reference"
    assert receipt(api, "PO-1", ("PHC-01", 1), loc="NOWHERE", status=422)["reason"] == (
        "unknown location"
    )
    assert api.on_hand_map() == {}
    assert lines(api.get("/v1/purchase-orders/PO-1"))["PHC-01"] == (50, 0, 0, 0, None)


def test_purchase_orders_are_listed_by_status(api: Api) -> None:
    seed(api)
    po(api, "PO-1", submit=False)
    po(api, "PO-2")
    po(api, "PO-3")
    receipt(api, "PO-3", ("PHC-01", 60))
    listed = api.get("/v1/purchase-orders")["purchase_orders"]
    assert [(p["ref"], p["status"], p["line_count"], p["ordered"], p["received"], p["flags"])
            for p in listed] == [
        ("PO-1", "draft", 2, 150, 0, []),
        ("PO-2", "open", 2, 150, 0, []),
        ("PO-3", "partially_received", 2, 150, 60, ["over"]),
    ]  # fmt: skip
    assert [p["ref"] for p in api.get("/v1/purchase-orders", status="open")["purchase_orders"]] == [
        "PO-2"
    ]
    response = api.client.get("/v1/purchase-orders", params={"status": "lost"},
                              headers=ADMIN)  # fmt: skip
    assert response.status_code == 422


def test_every_receipt_records_the_order_lines_cost_or_else_the_skus(api: Api, db_url: str) -> None:
    seed(api)
    po(api)  # CLN-200 at 3.90; PHC-01 without a cost: the SKU's 2.00
    receipt(api, "PO-1", ("CLN-200", 10), ("PHC-01", 10))
    api.scan("dock", GTIN_CLN, "receive", "WH1-A-02", "PO-1", qty=5)
    api.scan("dock", EAN_GUM, "receive", "WH1-A-02", qty=24)  # no PO: GUM-12's 0.50
    rows = sql(db_url, "SELECT s.sku, m.ref, m.qty, m.unit_cost FROM movements m JOIN skus s "
                       "ON s.id = m.sku_id WHERE m.kind = 'receive' ORDER BY m.id")  # fmt: skip
    assert [(sku, ref, qty, Decimal(str(cost))) for sku, ref, qty, cost in rows] == [
        ("CLN-200", "PO-1", 10, Decimal("3.90")),
        ("PHC-01", "PO-1", 10, Decimal("2.00")),
        ("CLN-200", "PO-1", 5, Decimal("3.90")),
        ("GUM-12", "", 24, Decimal("0.50")),
    ]


def test_an_invoice_revises_every_receipt_of_its_line_and_costs_later_ones(
    api: Api, db_url: str
) -> None:
    seed(api)
    po(api)
    receipt(api, "PO-1", ("CLN-200", 30), ("PHC-01", 50))
    api.scan("dock", GTIN_CLN, "receive", "WH1-A-02", "PO-1", qty=20)
    invoiced = api.post("/v1/purchase-orders/PO-1/lines/CLN-200/invoice",
                        {"unit_cost": "4.15", "note": "INV-77"})  # fmt: skip
    assert (invoiced["invoiced_cost"], invoiced["note"]) == ("4.15", "INV-77")
    assert [(r["qty"], r["unit_cost_before"], r["unit_cost"]) for r in invoiced["revised"]] == [
        (30, "3.90", "4.15"), (20, "3.90", "4.15")]  # fmt: skip
    doc = receipt(api, "PO-1", ("CLN-200", 50))
    line = next(x for x in doc["lines"] if x["sku"] == "CLN-200")
    assert (line["unit_cost"], line["invoiced_cost"]) == ("3.90", "4.15")
    assert [(r["sku"], r["qty"], r["unit_cost"], r["invoiced_cost"]) for r in doc["receipts"]] == [
        ("CLN-200", 30, "3.90", "4.15"), ("PHC-01", 50, "2.00", None),
        ("CLN-200", 20, "3.90", "4.15"), ("CLN-200", 50, "4.15", None),
    ]  # fmt: skip
    second = api.post("/v1/purchase-orders/PO-1/lines/CLN-200/invoice", {"unit_cost": "4.1234"})
    assert [r["unit_cost_before"] for r in second["revised"]] == ["4.15", "4.15", "4.15"]
    revisions = sql(db_url, "SELECT r.movement_id, r.unit_cost, r.note FROM cost_revisions r "
                            "ORDER BY r.id")  # fmt: skip
    ids = [r["movement_id"] for r in invoiced["revised"]]
    assert [(m, Decimal(str(c)), n) for m, c, n in revisions] == [
        (ids[0], Decimal("4.15"), "INV-77"), (ids[1], Decimal("4.15"), "INV-77"),
        (ids[0], Decimal("4.1234"), ""), (ids[1], Decimal("4.1234"), ""),
        (doc["receipts"][3]["movement_id"], Decimal("4.1234"), ""),
    ]  # fmt: skip
    assert api.get("/v1/purchase-orders/PO-1")["receipts"][0]["invoiced_cost"] == "4.1234"
    missing = api.post("/v1/purchase-orders/PO-1/lines/GUM-12/invoice", {"unit_cost": "1"},
                       status=404)  # fmt: skip
    assert missing["reason"] == "not on purchase order"


def test_parallel_receipts_against_one_order_are_all_counted_once(db_url: str) -> None:
    async def go() -> None:
        db = await open_database(db_url)
        try:
            await db.write(upsert, SkuIn("PHC-01", "Phone case", Decimal("2.00")))
            await db.write(add_location, "WH1-A-01", None)
            await db.write(service.create, PoIn("PO-1", (LineIn("PHC-01", 12),), submit=True))
            one = [receiving.ReceiptIn("PHC-01", 1, "WH1-A-01")]
            outcomes = await asyncio.gather(
                *(db.write(receiving.post_receipts, "PO-1", one) for _ in range(12)),
                return_exceptions=True,
            )
            assert [o for o in outcomes if isinstance(o, BaseException)] == []
            doc = await db.read(service.get, "PO-1")
            assert (doc["status"], doc["lines"][0]["received"], len(doc["receipts"])) == (
                "received", 12, 12)  # fmt: skip
            assert await db.read(check) == []
        finally:
            await db.dispose()

    asyncio.run(go())


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stockwire")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_the_cli_lists_shows_submits_and_closes_purchase_orders(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(api)
    po(api, "PO-1", submit=False)
    po(api, "PO-2")
    receipt(api, "PO-2", ("PHC-01", 60))
    capsys.readouterr()
    assert run(["ledger", "po", "list", "--db", db_url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out] == [["PO-1", "draft"], ["PO-2", "partially_received"]]
    assert out[1].endswith("60/150 received  [over]")
    assert run(["ledger", "po", "submit", "PO-1", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "open"
    assert run(["ledger", "po", "close", "PO-2", "--note", "rest cancelled", "--db", db_url]) == 0
    closed = json.loads(capsys.readouterr().out)
    assert (closed["status"], closed["flags"]) == ("closed", ["over", "short"])
    assert run(["ledger", "po", "close", "PO-2", "--db", db_url]) == 1
    assert "purchase order closed: PO-2 is already closed" in capsys.readouterr().err
    assert run(["ledger", "po", "list", "--status", "open", "--json", "--db", db_url]) == 0
    assert [p["ref"] for p in json.loads(capsys.readouterr().out)["purchase_orders"]] == ["PO-1"]
    assert run(["ledger", "reorder-alerts", "--all", "--db", db_url]) == 0
    assert capsys.readouterr().out.strip() == "(no alerts)"
