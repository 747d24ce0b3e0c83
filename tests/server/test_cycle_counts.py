"""Cycle counts: a scope and its snapshot, counters' scans summed, the count moment T1 and the
movements around it, review, approval into count-adjustment, recount, cancel, late movements
absorbed, the shrinkage report; and the spot counts a scan starts."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from server.app import create_app
from server.db.engine import Database
from server.ledger.check import check
from tests.server.conftest import make_settings
from tests.server.support import ADMIN, Api, execute_sql, scan

EAN_PHC = "5901234123457"
EAN_GUM = "036000291452"
EAN_CLN = "9506000134352"


def now_ms() -> int:
    return int(time.time() * 1000)


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def send(api: Api, dev: str, code: str, mode: str, loc: str, ref: str = "", qty: int = 1,
         at: int | None = None) -> dict[str, Any]:  # fmt: skip
    """One scan whose device time is `at` (ms; default now), reaching the gateway now."""
    ts = now_ms() if at is None else at
    event = scan(dev, api.next_seq(dev), code, mode, loc, ref, qty, ts=ts, gw_ts=now_ms())
    return api.batch([event])[0]


def stock(api: Api, ref: str, *lines: tuple[str, str, int]) -> None:
    body = [{"sku": sku, "loc": loc, "qty": qty} for sku, loc, qty in lines]
    api.post("/v1/stocktakes", {"ref": ref, "lines": body})


def problems(db_url: str) -> list[str]:
    """What `stockwire ledger check` finds (nothing on a sound ledger)."""

    async def go() -> list[str]:
        db = Database(db_url)
        try:
            return [str(p) for p in await db.read(check)]
        finally:
            await db.dispose()

    return asyncio.run(go())


def line(count: dict[str, Any], sku: str, loc: str, lot: str = "") -> dict[str, Any]:
    [found] = [x for x in count["lines"] if (x["sku"], x["loc"], x["lot"]) == (sku, loc, lot)]
    return found


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["snapshot"], row["expected"], row["counted"], row["variance"], row["value"]


def tree(api: Api) -> None:
    """SITE9 / WH9 / zone WH9-Z with bins WH9-Z-01, WH9-Z-02; bin WH9-Y-01 right under WH9."""
    for code, kind, parent in [
        ("SITE9", "site", None),
        ("WH9", "warehouse", "SITE9"),
        ("WH9-Z", "zone", "WH9"),
        ("WH9-Z-01", "bin", "WH9-Z"),
        ("WH9-Z-02", "bin", "WH9-Z"),
        ("WH9-Y-01", "bin", "WH9"),
    ]:
        api.post("/v1/locations", {"code": code, "kind": kind, "parent": parent})  # fmt: skip


def test_a_count_for_a_zone_snapshots_its_bins_and_refuses_scans_outside_it(api: Api) -> None:
    api.seed()
    tree(api)
    stock(api, "OPEN", ("PHC-01", "WH9-Z-01", 10), ("GUM-12", "WH9-Z-02", 40),
          ("CLN-200", "WH9-Y-01", 5))  # fmt: skip
    count = api.post("/v1/counts", {"ref": "CC-Z", "locations": ["WH9-Z"]})
    assert (count["kind"], count["status"], count["locations"]) == (
        "scoped", "open", ["WH9-Z-01", "WH9-Z-02"])  # fmt: skip
    assert [(x["sku"], x["loc"], x["snapshot"]) for x in count["lines"]] == [
        ("PHC-01", "WH9-Z-01", 10), ("GUM-12", "WH9-Z-02", 40)]  # fmt: skip
    outside = send(api, "hs-01", EAN_CLN, "count", "WH9-Y-01", "CC-Z", 5)
    assert (outside["reason"], outside["detail"]) == (
        "not in count", "WH9-Y-01 is not in count CC-Z")  # fmt: skip
    assert send(api, "hs-01", EAN_PHC, "count", "WH9-Z-01", "CC-Z", 10)["status"] == "booked"
    again = api.post("/v1/counts", {"ref": "CC-Z", "locations": ["WH9"]}, status=409)
    assert again["reason"] == "count exists"
    unknown = api.post("/v1/counts", {"ref": "CC-U", "locations": ["NOWHERE"]}, status=422)
    assert (unknown["reason"], unknown["detail"]) == (
        "unknown location", "unknown location: no location 'NOWHERE'")  # fmt: skip

    phc_only = api.post("/v1/counts", {"ref": "CC-S", "locations": ["WH9"], "skus": ["PHC-01"]})
    assert phc_only["locations"] == ["WH9-Y-01", "WH9-Z-01", "WH9-Z-02"]
    assert [x["sku"] for x in phc_only["lines"]] == ["PHC-01"]
    gum = send(api, "hs-02", EAN_GUM, "count", "WH9-Z-02", "CC-S", 40)
    assert (gum["reason"], gum["detail"]) == ("not in count", "GUM-12 is not in count CC-S")


def test_two_counters_scans_of_a_line_are_summed_and_reviewed_with_figures(api: Api) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10))
    api.post("/v1/counts", {"ref": "CC-2", "locations": ["WH1-A-01"]})
    for dev, qty in [("hs-01", 4), ("hs-02", 5), ("hs-01", 2)]:
        assert send(api, dev, EAN_PHC, "count", "WH1-A-01", "CC-2", qty)["status"] == "booked"
    count = api.post("/v1/counts/CC-2/submit")
    assert count["status"] == "review" and count["counted_at"]
    phc = line(count, "PHC-01", "WH1-A-01")
    assert figures(phc) == (10, 10, 11, 1, "2.00")  # PHC-01 costs 2.00
    assert phc["devices"] == {"hs-01": 6, "hs-02": 5}
    assert (phc["blind_zero"], phc["all_lots"], phc["status"]) == (False, False, "review")
    assert count["totals"] == {"lines": 1, "blind_zero": 0, "variance": 1, "value": "2.00"}
    assert api.on_hand("PHC-01", "WH1-A-01") == 10  # nothing booked before approval
    late = send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-2", 1)
    assert late["reason"] == "unknown reference" and "in review" in late["detail"]


def test_movements_during_and_after_the_count_land_on_their_side_of_t1(api: Api) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10))
    opened = api.post("/v1/counts", {"ref": "CC-3", "locations": ["WH1-A-01"]})
    during = ms(opened["opened_at"]) + 1
    assert send(api, "hs-02", EAN_PHC, "pick", "WH1-A-01", qty=3)["status"] == "booked"
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-3", 6)
    t1 = ms(api.post("/v1/counts/CC-3/submit")["counted_at"])
    # a pick scanned during the count whose scan reaches the ledger only now
    assert send(api, "hs-03", EAN_PHC, "pick", "WH1-A-01", at=during)["status"] == "booked"
    # a pick after the count moment
    assert send(api, "hs-02", EAN_PHC, "pick", "WH1-A-01", qty=2, at=t1 + 1000)["status"] == (
        "booked")  # fmt: skip
    assert api.on_hand("PHC-01", "WH1-A-01") == 4
    count = api.get("/v1/counts/CC-3")
    assert figures(line(count, "PHC-01", "WH1-A-01")) == (10, 6, 6, 0, "0.00")
    approved = api.post("/v1/counts/CC-3/approve")
    assert approved["booked"] == [] and approved["count"]["status"] == "closed"
    assert api.on_hand("PHC-01", "WH1-A-01") == 4


def test_a_blind_count_hides_expected_and_counts_unscanned_lines_as_zero(
    api: Api, db_url: str
) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10), ("GUM-12", "WH1-A-02", 40))
    api.post("/v1/counts", {"ref": "CC-4", "locations": ["WH1-A-01", "WH1-A-02"], "blind": True})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-4", 10)
    counting = api.get("/v1/counts/CC-4")
    assert figures(line(counting, "PHC-01", "WH1-A-01")) == (None, None, 10, None, None)
    assert counting["totals"]["variance"] is None
    count = api.post("/v1/counts/CC-4/submit")
    gum = line(count, "GUM-12", "WH1-A-02")
    assert figures(gum) == (40, 40, 0, -40, "-20.00")
    assert (gum["blind_zero"], gum["devices"]) == (True, {})
    assert line(count, "PHC-01", "WH1-A-01")["blind_zero"] is False
    assert any("1 line(s) in scope were not scanned: counted as 0 (blind zero)" in note
               for note in count["notes"])  # fmt: skip
    api.post("/v1/counts/CC-4/approve")
    assert api.on_hand("GUM-12", "WH1-A-02") == 0
    assert problems(db_url) == []


def test_approval_books_each_variance_against_count_adjustment(api: Api, db_url: str) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10), ("GUM-12", "WH1-B-02", 40))
    api.post("/v1/counts", {"ref": "CC-6", "locations": ["WH1-A-01", "WH1-B-02"]})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-6", 8)
    send(api, "hs-02", EAN_GUM, "count", "WH1-B-02", "CC-6", 43)
    early = api.post("/v1/counts/CC-6/approve", status=409)
    assert early["detail"] == "count not in review: count CC-6 is open: submit it first"
    t1 = api.post("/v1/counts/CC-6/submit")["counted_at"]
    approved = api.post("/v1/counts/CC-6/approve")
    assert approved["booked"] == [  # by bin, SKU, lot
        {"sku": "PHC-01", "loc": "WH1-A-01", "lot": "", "variance": -2},
        {"sku": "GUM-12", "loc": "WH1-B-02", "lot": "", "variance": 3},
    ]
    assert approved["count"]["status"] == "closed" and approved["count"]["closed_at"]
    moved = api.get("/v1/movements", ref="CC-6")["movements"]
    rows = sorted((m["kind"], m["sku"], m["from"], m["to"], m["qty"], m["event_at"]) for m in moved)
    assert rows == [
        ("count-variance", "GUM-12", "count-adjustment", "WH1-B-02", 3, t1),
        ("count-variance", "PHC-01", "WH1-A-01", "count-adjustment", 2, t1),
    ]
    assert api.on_hand_map() == {"GUM-12": {"WH1-B-02": 43}, "PHC-01": {"WH1-A-01": 8}}
    assert api.get("/v1/stock", loc="inventory-loss", virtual=1)["stock"] == []
    assert api.post("/v1/counts/CC-6/approve", status=409)["reason"] == "count not in review"
    assert send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-6")["detail"] == (
        "count CC-6 is closed")  # fmt: skip
    assert problems(db_url) == []


def test_a_recount_resets_chosen_lines_and_keeps_the_others(api: Api) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10), ("GUM-12", "WH1-A-02", 40))
    api.post("/v1/counts", {"ref": "CC-7", "locations": ["WH1-A-01", "WH1-A-02"]})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-7", 7)
    send(api, "hs-02", EAN_GUM, "count", "WH1-A-02", "CC-7", 40)
    first = api.post("/v1/counts/CC-7/submit")
    assert line(first, "PHC-01", "WH1-A-01")["variance"] == -3
    body = {"lines": [{"sku": "PHC-01", "loc": "WH1-A-01"}]}
    reopened = api.post("/v1/counts/CC-7/recount", body)
    assert reopened["status"] == "open"
    phc, gum = line(reopened, "PHC-01", "WH1-A-01"), line(reopened, "GUM-12", "WH1-A-02")
    assert (phc["counted"], phc["devices"], phc["counted_at"]) == (0, {}, None)
    assert (gum["counted"], gum["devices"], gum["counted_at"]) == (
        40, {"hs-02": 40}, first["counted_at"])  # fmt: skip
    kept = send(api, "hs-02", EAN_GUM, "count", "WH1-A-02", "CC-7", 1)
    assert (kept["reason"], kept["detail"]) == (
        "not in count", f"GUM-12 at WH1-A-02 was counted at {first['counted_at']}, "
        "not being recounted")  # fmt: skip
    stale = send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-7", at=ms(first["counted_at"]))
    assert stale["reason"] == "not in count" and "predates the recount" in stale["detail"]
    send(api, "hs-03", EAN_PHC, "count", "WH1-A-01", "CC-7", 10)
    second = api.post("/v1/counts/CC-7/submit")
    assert figures(line(second, "PHC-01", "WH1-A-01")) == (10, 10, 10, 0, "0.00")
    assert line(second, "PHC-01", "WH1-A-01")["devices"] == {"hs-03": 10}
    assert line(second, "GUM-12", "WH1-A-02")["counted_at"] == first["counted_at"]
    assert api.post("/v1/counts/CC-7/approve")["booked"] == []
    assert api.on_hand_map() == {"GUM-12": {"WH1-A-02": 40}, "PHC-01": {"WH1-A-01": 10}}


def test_a_cancelled_count_books_nothing_and_takes_no_more_scans(api: Api) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10))
    api.post("/v1/counts", {"ref": "CC-8", "locations": ["WH1-A-01"]})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-8", 3)
    cancelled = api.post("/v1/counts/CC-8/cancel")
    assert cancelled["status"] == "cancelled" and cancelled["closed_at"]
    assert line(cancelled, "PHC-01", "WH1-A-01")["counted"] == 3
    assert api.on_hand("PHC-01", "WH1-A-01") == 10
    refused = send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-8")
    assert (refused["reason"], refused["detail"]) == (
        "unknown reference",
        "count CC-8 is cancelled",
    )
    assert api.post("/v1/counts/CC-8/approve", status=409)["reason"] == "count not in review"
    assert api.post("/v1/counts/CC-8/cancel", status=409)["reason"] == "count not open"
    assert [c["ref"] for c in api.get("/v1/counts", status="cancelled")["counts"]] == ["CC-8"]


def test_a_movement_from_before_an_approved_count_that_arrives_late_is_absorbed(
    api: Api, db_url: str
) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10))
    api.post("/v1/counts", {"ref": "CC-9", "locations": ["WH1-A-01"]})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-9", 10)
    t1 = api.post("/v1/counts/CC-9/submit")["counted_at"]
    assert api.post("/v1/counts/CC-9/approve")["booked"] == []
    # a pick scanned a minute before the count moment, out of a scanner's outbox only now
    assert send(api, "hs-02", EAN_PHC, "pick", "WH1-A-01", at=ms(t1) - 60_000)["status"] == (
        "booked")  # fmt: skip
    assert api.on_hand("PHC-01", "WH1-A-01") == 10
    [pick] = api.get("/v1/movements", kind="pick")["movements"]
    [absorbed] = api.get("/v1/movements", kind="count-absorbed")["movements"]
    assert (pick["from"], pick["to"], pick["qty"]) == ("WH1-A-01", "customer", 1)
    assert (absorbed["from"], absorbed["to"], absorbed["qty"], absorbed["ref"]) == (
        "count-adjustment", "WH1-A-01", 1, "CC-9")  # fmt: skip
    assert absorbed["reason"] == f"absorbs movement {pick['id']}"
    assert absorbed["event_at"] == pick["event_at"]
    assert problems(db_url) == []
    # a pick after the count moment is not the count's business
    assert send(api, "hs-02", EAN_PHC, "pick", "WH1-A-01")["status"] == "booked"
    assert api.on_hand("PHC-01", "WH1-A-01") == 9
    assert len(api.get("/v1/movements", kind="count-absorbed")["movements"]) == 1


def test_a_late_scan_with_no_believable_clock_is_not_absorbed_by_an_earlier_count(
    api: Api, db_url: str
) -> None:
    api.seed()
    api.post("/v1/counts", {"ref": "CC-8", "locations": ["WH1-A-01"]})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-8", 0)
    api.post("/v1/counts/CC-8/submit")
    api.post("/v1/counts/CC-8/approve")
    # a gateway whose clock never synced sends a receipt stamped 1970, device time unknown
    event = scan("hs-02", 1, EAN_PHC, "receive", "WH1-A-01", qty=12, ts=0, gw_ts=0)
    assert api.batch([event])[0]["status"] == "booked"
    assert api.on_hand("PHC-01", "WH1-A-01") == 12
    assert api.get("/v1/movements", kind="count-absorbed")["movements"] == []
    [receipt] = api.get("/v1/movements", kind="receive", flagged="true")["movements"]
    assert receipt["clock"] == "gateway clock before 2020"
    assert problems(db_url) == []


def test_a_lot_less_scan_of_a_lotted_sku_counts_all_its_lots_and_takes_a_loss_fefo(
    api: Api,
) -> None:
    api.seed()
    send(api, "dock-1", "]C1010950600013435210L1", "receive", "WH1-A-02", qty=5)
    send(api, "dock-1", "]C1010950600013435210L2", "receive", "WH1-A-02", qty=3)
    assert send(api, "hs-01", EAN_CLN, "count", "WH1-A-02", "SP-1", 7)["status"] == "booked"
    count = api.get("/v1/counts/SP-1")
    assert (count["kind"], count["status"]) == ("spot", "open")
    [merged] = count["lines"]
    assert (merged["lot"], merged["all_lots"]) == ("", True)
    assert figures(merged) == (8, 8, 7, -1, "-4.00")
    assert send(api, "hs-01", "SW:CLOSE", "count-close", "WH1-A-02", "SP-1")["status"] == "booked"
    assert api.get("/v1/counts/SP-1")["status"] == "closed"
    lots = api.get("/v1/stock", sku="CLN-200", loc="WH1-A-02")["stock"]
    assert [(row["lot"], row["on_hand"]) for row in lots] == [("L1", 4), ("L2", 3)]


def test_shrinkage_is_count_and_adjustment_losses_net_of_gains(api: Api) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10), ("GUM-12", "WH1-B-02", 40),
          ("CLN-200", "WH1-A-02", 20))  # fmt: skip
    api.post("/v1/counts", {"ref": "CC-10", "locations": ["WH1-A-01", "WH1-B-02"]})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-10", 8)
    send(api, "hs-01", EAN_GUM, "count", "WH1-B-02", "CC-10", 43)
    t1 = ms(api.post("/v1/counts/CC-10/submit")["counted_at"])
    api.post("/v1/counts/CC-10/approve")
    send(api, "hs-02", EAN_PHC, "pick", "WH1-A-01", at=t1 - 1000)  # a sale, absorbed
    for qty, reason in [(-4, "damaged")]:
        api.post("/v1/movements", {"kind": "adjustment", "sku": "GUM-12", "qty": qty,
                                   "loc": "WH1-B-02", "reason": reason})  # fmt: skip
    for qty, reason in [(-2, "theft"), (1, "found")]:
        api.post("/v1/movements", {"kind": "adjustment", "sku": "CLN-200", "qty": qty,
                                   "loc": "WH1-A-02", "reason": reason})  # fmt: skip
    send(api, "hs-03", EAN_PHC, "pick", "WH1-A-01")  # a sale is not shrinkage
    report = api.get("/v1/reports/shrinkage", **{"from": "2026-01-01"})
    rows = {r["sku"]: r for r in report["skus"]}
    assert rows["PHC-01"] == {
        "sku": "PHC-01", "name": "Phone case", "unit_cost": "2.0000", "count_loss": 2,
        "count_gain": 1, "adjustment_loss": 0, "adjustment_gain": 0, "shrinkage_qty": 1,
        "shrinkage_value": "2.00"}  # fmt: skip
    assert (rows["GUM-12"]["count_gain"], rows["GUM-12"]["adjustment_loss"]) == (3, 4)
    assert (rows["GUM-12"]["shrinkage_qty"], rows["GUM-12"]["shrinkage_value"]) == (1, "0.50")
    assert (rows["CLN-200"]["adjustment_loss"], rows["CLN-200"]["adjustment_gain"]) == (2, 1)
    assert (rows["CLN-200"]["shrinkage_qty"], rows["CLN-200"]["shrinkage_value"]) == (1, "4.00")
    assert report["total"] == {"shrinkage_qty": 3, "shrinkage_value": "6.50"}
    assert report["from"] == "2026-01-01T00:00:00.000Z" and report["to"] is None

    response = api.client.get("/v1/reports/shrinkage", params={"format": "csv"}, headers=ADMIN)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text == (
        "sku,name,unit_cost,count_loss,count_gain,adjustment_loss,adjustment_gain,"
        "shrinkage_qty,shrinkage_value\n"
        "CLN-200,Facial cleanser 200 ml,4.0000,0,0,2,1,1,4.00\n"
        "GUM-12,Chewing gum 12-pack,0.5000,0,3,4,0,1,0.50\n"
        "PHC-01,Phone case,2.0000,2,1,0,0,1,2.00\n"
        "TOTAL,,,,,,,3,6.50\n"
    )
    before = api.get("/v1/reports/shrinkage", to="2026-01-01")
    assert before["skus"] == [] and before["total"] == {
        "shrinkage_qty": 0,
        "shrinkage_value": "0.00",
    }
    bad = api.client.get("/v1/reports/shrinkage", params={"from": "2026-02-01", "to": "2026-01-01"},
                         headers=ADMIN)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["reason"] == "bad period"


def test_counts_from_before_cycle_counts_are_adopted_at_start_up(api: Api, db_url: str) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 8), ("GUM-12", "WH1-B-02", 5))
    loc = "(SELECT id FROM locations WHERE code = '{}')"
    sku = "(SELECT id FROM skus WHERE sku = '{}')"
    execute_sql(
        db_url,
        "INSERT INTO counts (ref, loc_id, status, opened_at, closed_at) VALUES ('OLD-1', "
        f"{loc.format('WH1-A-01')}, 'closed', '2026-11-01 10:00:00', '2026-11-01 11:00:00')",
        "INSERT INTO count_lines (count_id, sku_id, lot, counted, snapshot, variance) VALUES "
        f"((SELECT id FROM counts WHERE ref = 'OLD-1'), {sku.format('PHC-01')}, '', 8, 10, -2)",
        "INSERT INTO counts (ref, loc_id, status, opened_at) VALUES ('OLD-2', "
        f"{loc.format('WH1-B-02')}, 'open', '2026-11-02 10:00:00')",
        "INSERT INTO count_lines (count_id, sku_id, lot, counted, snapshot) VALUES "
        f"((SELECT id FROM counts WHERE ref = 'OLD-2'), {sku.format('GUM-12')}, '', 4, 5)",
    )
    with TestClient(create_app(make_settings(db_url, dispatcher=False))) as client:
        again = Api(client)
        old = again.get("/v1/counts/OLD-1")
        assert (old["kind"], old["status"], old["counted_at"]) == (
            "spot", "closed", "2026-11-01T11:00:00.000Z")  # fmt: skip
        assert figures(line(old, "PHC-01", "WH1-A-01")) == (10, 10, 8, -2, "-4.00")
        assert again.get("/v1/counts/OLD-2")["status"] == "open"
        closed = again.post("/v1/counts/OLD-2/close")
        assert closed["booked"] == [{"sku": "GUM-12", "loc": "WH1-B-02", "lot": "", "variance": -1}]
        assert again.on_hand("GUM-12", "WH1-B-02") == 4


def test_a_loss_larger_than_what_is_left_is_refused_until_the_line_is_recounted(api: Api) -> None:
    api.seed()
    stock(api, "OPEN", ("PHC-01", "WH1-A-01", 10))
    api.post("/v1/counts", {"ref": "CC-11", "locations": ["WH1-A-01"]})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-11", 4)
    t1 = ms(api.post("/v1/counts/CC-11/submit")["counted_at"])
    send(api, "hs-02", EAN_PHC, "pick", "WH1-A-01", qty=7, at=t1 + 1000)  # 7 left after 4 seen
    refused = api.post("/v1/counts/CC-11/approve", status=422)
    assert refused["reason"] == "insufficient stock"
    assert api.get("/v1/counts/CC-11")["status"] == "review"
    api.post("/v1/counts/CC-11/recount", {"lines": [{"sku": "PHC-01", "loc": "WH1-A-01"}]})
    send(api, "hs-01", EAN_PHC, "count", "WH1-A-01", "CC-11", 3)
    assert api.post("/v1/counts/CC-11/close")["booked"] == []
    assert api.on_hand("PHC-01", "WH1-A-01") == 3
