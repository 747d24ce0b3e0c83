"""The whole shift of tests/server/data/shift.json driven through POST /v1/scan-batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.server.support import Api, Receiver, scan, wait_for

SHIFT = json.loads((Path(__file__).parent / "data" / "shift.json").read_text())
SECRET = "webshop-secret-0123456789"


def play(api: Api, shift: dict[str, Any]) -> list[dict[str, Any]]:
    """Send every step as one batch per step; returns all results in order."""
    sent: dict[str, list[dict[str, Any]]] = {}
    results = []
    for step in shift["steps"]:
        if "redeliver_last" in step:
            again = sent[step["who"]][-step["redeliver_last"] :]
            redelivered = api.batch(again)
            assert [r["status"] for r in redelivered] == ["duplicate"] * len(again)
            continue
        events = []
        for item in step["scans"]:
            for _ in range(item.get("times", 1)):
                seq = api.next_seq(step["who"])
                events.append(
                    scan(step["who"], seq, item["code"], step["mode"], step["loc"],
                         step.get("ref", ""), item.get("qty", 1))
                )  # fmt: skip
        sent.setdefault(step["who"], []).extend(events)
        results += api.batch(events)
    return results


def test_the_shift_ends_with_every_expected_figure(api: Api) -> None:
    expect = SHIFT["expect"]
    receiver = Receiver(SECRET).start()
    try:
        for item in SHIFT["catalog"]:
            api.post("/v1/skus", item)
        for code in SHIFT["locations"]:
            api.post("/v1/locations", {"code": code})
        api.post("/v1/stocktakes", {"ref": "BASELINE", "lines": SHIFT["baseline_stocktake"]})
        for po in SHIFT["purchase_orders"]:
            api.post("/v1/purchase-orders", po | {"submit": True})
        for chan in SHIFT["channels"]:
            api.post("/v1/channels", chan | {"url": receiver.url, "secret": SECRET})

        results = play(api, SHIFT)
        refused = [r for r in results if r["status"] == "refused"]
        assert [r["reason"] for r in refused] == ["unknown barcode"]
        assert sum(r["status"] == "booked" for r in results) == len(results) - 1

        closed = api.post("/v1/counts/CC-1/close")
        assert closed["booked"] == [{"sku": "GUM-12", "loc": "WH1-B-02", "lot": "", "variance": -2}]

        assert api.on_hand_map() == expect["on_hand"]
        count = api.get("/v1/counts/CC-1")
        variance = {line["sku"]: line["variance"] for line in count["lines"]}
        assert variance == expect["count_variance"]
        assert count["status"] == "closed"
        through = {r["sku"]: r["sell_through_pct"] for r in api.get("/v1/reports/sell-through")
                   ["skus"]}  # fmt: skip
        for sku, pct in expect["sell_through_pct"].items():
            assert through[sku] == pct
        alerts = api.get("/v1/reorder-alerts")["alerts"]
        assert [a["sku"] for a in alerts] == expect["reorder_alerts"]
        assert alerts[0] | {"id": None, "raised_at": None} == {
            "id": None, "sku": "CLN-200", "loc": None, "available": 30, "reorder_point": 30,
            "suggested_qty": 100, "raised_at": None, "closed_at": None, "closed_reason": None,
            "po": None, "po_status": None, "note": "no supplier: set the SKU's supplier to get a "
            "draft purchase order",
        }  # fmt: skip
        kept = api.get("/v1/quarantine")["entries"]
        assert [{"code": q["code"], "reason": q["reason"]} for q in kept] == expect["refused"]
        po = api.get("/v1/purchase-orders/PO-1001")
        assert po["status"] == "received"
        assert {line["sku"]: line["received"] for line in po["lines"]} == {
            "CLN-200": 100, "PHC-01": 100}  # fmt: skip

        want = expect["channel_last_push"]["webshop"]
        assert wait_for(lambda: receiver.last() == want, timeout=15), receiver.last()
        assert wait_for(lambda: api.get("/v1/channels")["channels"][0]["pending"] == 0)
        assert receiver.rejected == [] and receiver.stale == 0
        events = api.get("/v1/scan-events", dev="hs-02", limit=1000)["events"]
        assert len(events) == 85 + 96
    finally:
        receiver.stop()
