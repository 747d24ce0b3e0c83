"""Scan-batch ingest: idempotency, per-event outcomes, modes and the quarantine."""

from __future__ import annotations

import time

from tests.server.support import Api, scan

EAN_PHC = "5901234123457"
EAN_GUM = "036000291452"
UNKNOWN = "4006381333931"


def opening(api: Api, sku: str = "PHC-01", loc: str = "WH1-A-01", qty: int = 10) -> None:
    api.post("/v1/stocktakes", {"ref": f"OPEN-{sku}-{loc}", "lines": [
        {"sku": sku, "loc": loc, "qty": qty}]})  # fmt: skip


def test_a_retried_batch_books_nothing_twice(api: Api) -> None:
    api.seed()
    events = [scan("hs-01", seq, EAN_PHC, "receive", "WH1-A-01") for seq in (1, 2, 3)]
    events.append(scan("hs-01", 4, UNKNOWN, "receive", "WH1-A-01"))
    first = api.batch(events)
    assert [r["status"] for r in first] == ["booked"] * 3 + ["refused"]
    again = api.batch(events)
    assert [r["status"] for r in again] == ["duplicate"] * 4
    assert again[3]["reason"] == "unknown barcode"  # a refusal answers duplicate, same reason
    assert api.on_hand("PHC-01") == 3
    assert len(api.get("/v1/quarantine")["entries"]) == 1


def test_the_same_event_twice_in_one_batch_is_booked_once(api: Api) -> None:
    api.seed()
    event = scan("hs-01", 1, EAN_PHC, "receive", "WH1-A-01")
    results = api.batch([event, event])
    assert [r["status"] for r in results] == ["booked", "duplicate"]
    assert api.on_hand("PHC-01") == 1


def test_one_bad_event_does_not_fail_its_batch(api: Api) -> None:
    api.seed()
    opening(api)
    events = [
        scan("hs-01", 1, EAN_PHC, "pick", "WH1-A-01"),
        scan("hs-01", 2, EAN_PHC, "pick", "NOWHERE"),
        {"dev": "hs-01", "seq": 3, "code": EAN_PHC, "mode": "dance"},
        scan("hs-01", 4, EAN_PHC, "pick", "WH1-A-01", qty=50),
        scan("hs-01", 5, EAN_PHC, "pick", "WH1-A-01"),
    ]
    results = api.batch(events)
    assert [(r["seq"], r["status"], r.get("reason")) for r in results] == [
        (1, "booked", None),
        (2, "refused", "unknown location"),
        (3, "refused", "bad event"),
        (4, "refused", "insufficient stock"),
        (5, "booked", None),
    ]
    assert api.on_hand("PHC-01", "WH1-A-01") == 8
    statuses = [e["status"] for e in api.get("/v1/scan-events", dev="hs-01")["events"]]
    assert statuses == ["booked", "refused", "refused", "booked"]


def test_a_pick_without_a_lot_takes_the_earliest_expiry_first_and_lot_less_last(api: Api) -> None:
    api.seed()
    opening(api, "CLN-200", "WH1-A-01", 5)  # lot-less
    late = "]C1010950600013435210LATE\x1d17271231"
    early = "]C1010950600013435210EARLY\x1d17261231"
    api.scan("dock", late, "receive", "WH1-A-01", qty=4)
    api.scan("dock", early, "receive", "WH1-A-01", qty=3)
    assert api.scan("hs-01", "09506000134352", "pick", "WH1-A-01", qty=9)["status"] == "booked"
    stock = {r["lot"]: r["on_hand"] for r in api.get("/v1/stock", sku="CLN-200", zero=1)["stock"]}
    assert stock == {"": 3, "EARLY": 0, "LATE": 0}
    refused = api.scan("hs-01", "09506000134352", "pick", "WH1-A-01", qty=4)
    assert refused["reason"] == "insufficient stock"


def test_receiving_against_a_purchase_order_counts_receipts_and_refuses_strangers(
    api: Api,
) -> None:
    api.seed()
    api.post("/v1/purchase-orders", {"ref": "PO-1", "submit": True, "lines": [
        {"sku": "PHC-01", "qty": 5, "unit_cost": "2.00"}]})  # fmt: skip
    assert api.scan("dock", EAN_PHC, "receive", "WH1-A-01", "PO-1", qty=3)["status"] == "booked"
    assert api.scan("dock", EAN_PHC, "receive", "WH1-A-01", "PO-X")["reason"] == (
        "unknown reference"
    )
    assert api.scan("dock", EAN_GUM, "receive", "WH1-A-01", "PO-1")["reason"] == (
        "not on purchase order"
    )
    po = api.get("/v1/purchase-orders/PO-1")
    assert (po["status"], po["lines"][0]["received"]) == ("partially_received", 3)
    api.scan("dock", EAN_PHC, "receive", "WH1-A-01", "PO-1", qty=2)
    assert api.get("/v1/purchase-orders/PO-1")["status"] == "received"


def test_a_transfer_moves_through_in_transit_by_its_reference(api: Api) -> None:
    api.seed()
    opening(api)
    assert api.scan("hs-01", EAN_PHC, "transfer-in", "WH2-A-01", "TR-1")["reason"] == (
        "no open transfer"
    )
    assert api.scan("hs-01", EAN_PHC, "transfer-out", "WH1-A-01", "TR-1", 4)["status"] == "booked"
    assert api.on_hand_map()["PHC-01"] == {"WH1-A-01": 6}
    virtual = api.get("/v1/stock", sku="PHC-01", virtual=1)["stock"]
    assert {"loc": "in-transit/TR-1", "on_hand": 4} in [
        {"loc": r["loc"], "on_hand": r["on_hand"]} for r in virtual
    ]
    assert api.scan("hs-02", EAN_PHC, "transfer-in", "WH2-A-01", "TR-2")["reason"] == (
        "no open transfer"
    )
    assert api.scan("hs-02", EAN_PHC, "transfer-in", "WH2-A-01", "TR-1", 5)["reason"] == (
        "no open transfer"
    )
    assert api.scan("hs-02", EAN_PHC, "transfer-in", "WH2-A-01", "TR-1", 4)["status"] == "booked"
    assert api.on_hand_map()["PHC-01"] == {"WH1-A-01": 6, "WH2-A-01": 4}


def test_a_close_label_books_the_count_variance(api: Api) -> None:
    api.seed()
    opening(api, "GUM-12", "WH1-B-02", 40)
    api.scan("hs-03", EAN_GUM, "count", "WH1-B-02", "CC-9", 30)
    api.scan("hs-03", EAN_GUM, "count", "WH1-B-02", "CC-9", 13)
    line = api.get("/v1/counts/CC-9")["lines"][0]
    assert (line["counted"], line["snapshot"], line["variance"], line["status"]) == (
        43, 40, 3, "open")  # fmt: skip
    # the close label's time is the count moment: now, after the opening stocktake
    now_ms = int(time.time() * 1000)
    close = scan("hs-03", api.next_seq("hs-03"), "SW:CLOSE", "count-close", "WH1-B-02", "CC-9",
                 ts=now_ms, gw_ts=now_ms)  # fmt: skip
    assert api.batch([close])[0]["status"] == "booked"
    assert api.on_hand("GUM-12", "WH1-B-02") == 43
    assert api.get("/v1/counts/CC-9")["status"] == "closed"
    assert api.scan("hs-03", "SW:CLOSE", "count-close", "WH1-B-02", "CC-9")["reason"] == (
        "unknown reference"
    )
    adjust = api.get("/v1/stock", sku="GUM-12", loc="count-adjustment", virtual=1)["stock"]
    assert adjust[0]["on_hand"] == -43  # the opening stocktake's 40, the count's 3


def test_a_quarantined_scan_is_booked_once_its_gtin_is_mapped(api: Api) -> None:
    api.seed()
    opening(api)
    result = api.scan("hs-01", UNKNOWN, "pick", "WH1-A-01")
    assert result["reason"] == "unknown barcode"
    [entry] = api.get("/v1/quarantine")["entries"]
    assert (entry["code"], entry["dev"], entry["seq"], entry["mode"], entry["loc"]) == (
        UNKNOWN, "hs-01", 1, "pick", "WH1-A-01")  # fmt: skip
    assert entry["status"] == "open" and entry["detail"]

    still = api.post(f"/v1/quarantine/{entry['id']}/replay")
    assert (still["status"], still["reason"], still["attempts"]) == ("open", "unknown barcode", 2)

    api.post("/v1/skus/PHC-01/gtins", {"gtin": UNKNOWN})
    replayed = api.post(f"/v1/quarantine/{entry['id']}/replay")
    assert replayed["status"] == "replayed"
    assert api.on_hand("PHC-01") == 9
    api.post(f"/v1/quarantine/{entry['id']}/replay", status=409)
    # the gateway retrying the original event now learns it is done, and nothing books twice
    again = api.batch([scan("hs-01", 1, UNKNOWN, "pick", "WH1-A-01")])
    assert again[0]["status"] == "duplicate" and "reason" not in again[0]
    assert api.on_hand("PHC-01") == 9
    events = api.get("/v1/scan-events", dev="hs-01")["events"]
    assert events[-1]["status"] == "booked"


def test_mapping_an_unknown_gtin_replays_every_scan_refused_for_it(api: Api) -> None:
    api.seed()
    opening(api)
    for dev in ("hs-01", "hs-02"):
        assert api.scan(dev, UNKNOWN, "pick", "WH1-A-01")["reason"] == "unknown barcode"
    api.scan("hs-03", "4006381333948", "pick", "WH1-A-01")  # another unknown GTIN stays
    first = api.get("/v1/quarantine")["entries"][0]
    mapped = api.post(f"/v1/quarantine/{first['id']}/map", {"sku": "PHC-01"})
    assert (mapped["gtin14"], mapped["sku"]) == ("0" + UNKNOWN, "PHC-01")
    assert [(e["dev"], e["status"]) for e in mapped["replayed"]] == [
        ("hs-01", "replayed"), ("hs-02", "replayed")]  # fmt: skip
    assert api.on_hand("PHC-01") == 8
    assert [e["dev"] for e in api.get("/v1/quarantine", status="open")["entries"]] == ["hs-03"]
    again = api.post(f"/v1/quarantine/{first['id']}/map", {"sku": "PHC-01"}, status=409)
    assert again["reason"] == "already replayed"


def test_a_quarantined_code_that_is_no_gtin_cannot_be_mapped(api: Api) -> None:
    api.seed()
    api.scan("hs-01", "5901234123458", "pick", "WH1-A-01")  # bad check digit
    [entry] = api.get("/v1/quarantine")["entries"]
    refused = api.post(f"/v1/quarantine/{entry['id']}/map", {"sku": "PHC-01"}, status=422)
    assert refused["reason"] == "not mappable" and "check digit" in refused["detail"]


def test_a_replay_that_still_fails_stays_with_the_new_reason(api: Api) -> None:
    api.seed()
    api.scan("hs-01", UNKNOWN, "pick", "WH1-A-01")
    api.post("/v1/skus/PHC-01/gtins", {"gtin": UNKNOWN})
    [entry] = api.get("/v1/quarantine")["entries"]
    again = api.post(f"/v1/quarantine/{entry['id']}/replay")
    assert (again["status"], again["reason"]) == ("open", "insufficient stock")


def test_stock_shows_on_hand_reserved_and_available(api: Api) -> None:
    api.seed()
    opening(api)
    assert api.get("/v1/stock", sku="PHC-01")["stock"] == [
        {"sku": "PHC-01", "loc": "WH1-A-01", "lot": "", "expiry": None, "on_hand": 10,
         "reserved": 0, "safety_stock": 0, "available": 10}
    ]  # fmt: skip


def test_the_reorder_alert_opens_at_the_reorder_point_and_closes_above_it(api: Api) -> None:
    api.seed()
    opening(api, "CLN-200", "WH1-A-01", 31)
    assert api.get("/v1/reorder-alerts")["alerts"] == []
    api.scan("hs-01", "09506000134352", "pick", "WH1-A-01")
    assert [a["available"] for a in api.get("/v1/reorder-alerts")["alerts"]] == [30]
    api.scan("hs-01", "09506000134352", "pick", "WH1-A-01")
    assert [a["available"] for a in api.get("/v1/reorder-alerts")["alerts"]] == [29]
    api.scan("hs-01", "09506000134352", "return", "WH1-A-01", qty=2)
    assert api.get("/v1/reorder-alerts")["alerts"] == []
