"""Movements booked by hand (receive, pick, return, transfer, transfer-in, adjustment) with
idempotency keys and backdating; the movement journal and its filters; the clock flags scans
get; damaged scan returns going to quarantine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection

from server.app import open_database
from server.catalog.service import GtinIn, SkuIn, upsert
from server.db.engine import Database
from server.db.sql import iso
from server.ledger.check import check
from server.locations.service import upsert as add_location
from server.movements.service import Manual, post
from tests.server.support import ADMIN, GW1, Api, scan

EAN_PHC = "5901234123457"
HOUR_MS = 3600 * 1000


def move(api: Api, status: int = 200, **body: Any) -> Any:
    answer = api.post("/v1/movements", body, status=status)
    return answer["movements"] if status == 200 else answer


def receive(api: Api, qty: int, loc: str = "WH1-A-01", **extra: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = move(api, kind="receive", sku="PHC-01", qty=qty, loc=loc, **extra)
    return rows


def ends(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["kind"], r["from"], r["to"], r["qty"]) for r in rows]


def at_ms(ms: int) -> str | None:
    return iso(datetime.fromtimestamp(ms / 1000, UTC))


def test_a_receipt_books_from_the_supplier_with_its_cost_lot_and_expiry(api: Api) -> None:
    api.seed()
    [row] = receive(api, 24, unit_cost="2.1", lot="L2406", expiry="2027-06-30")
    assert ends([row]) == [("receive", "supplier", "WH1-A-01", 24)]
    assert (row["unit_cost"], row["lot"], row["expiry"], row["ref"]) == (
        "2.1000", "L2406", "2027-06-30", "")  # fmt: skip
    assert (row["clock"], row["flags"], row["device_at"], row["gateway_at"]) == ("", "", None, None)
    assert row["event_at"] == row["booked_at"]
    assert api.on_hand("PHC-01", "WH1-A-01") == 24
    assert api.get("/v1/stock", sku="PHC-01")["stock"][0]["expiry"] == "2027-06-30"
    assert receive(api, 1)[0]["unit_cost"] == "2.0000"  # the SKU's cost when none is given
    stranger = move(api, 422, kind="receive", sku="PHC-01", qty=1, loc="WH1-A-01", ref="PO-9")
    assert stranger["detail"] == "unknown reference: no purchase order 'PO-9'"
    assert api.on_hand("PHC-01", "WH1-A-01") == 25


def test_a_receipt_with_a_ref_counts_against_that_purchase_order_at_its_cost(api: Api) -> None:
    api.seed()
    line = {"sku": "PHC-01", "qty": 24, "unit_cost": "2.10"}
    api.post("/v1/purchase-orders", {"ref": "PO-1042", "submit": True, "lines": [line]})
    [row] = receive(api, 20, ref="PO-1042")
    assert (row["ref"], row["unit_cost"]) == ("PO-1042", "2.1000")
    line = api.get("/v1/purchase-orders/PO-1042")["lines"][0]
    assert (line["ordered"], line["received"]) == (24, 20)
    stranger = move(api, 422, kind="receive", sku="CLN-200", qty=1, loc="WH1-A-01", ref="PO-1042")
    assert stranger["reason"] == "not on purchase order"


def test_a_pick_for_an_order_goes_to_the_customer_fefo_across_lots(api: Api) -> None:
    api.seed()
    receive(api, 2, lot="LATE", expiry="2028-01-31")
    receive(api, 2, lot="EARLY", expiry="2027-01-31")
    rows = move(api, kind="pick", sku="PHC-01", qty=3, loc="WH1-A-01", order="SO-5531")
    assert [(r["from"], r["to"], r["lot"], r["qty"], r["ref"]) for r in rows] == [
        ("WH1-A-01", "customer", "EARLY", 2, "SO-5531"),
        ("WH1-A-01", "customer", "LATE", 1, "SO-5531"),
    ]
    short = move(api, 422, kind="pick", sku="PHC-01", qty=2, loc="WH1-A-01")
    assert short["detail"] == "insufficient stock: 2 asked, 1 at WH1-A-01"
    assert api.on_hand("PHC-01", "WH1-A-01") == 1


def test_a_return_goes_to_its_bin_when_resellable_and_to_quarantine_when_damaged(
    api: Api,
) -> None:
    api.seed()
    good = move(api, kind="return", sku="PHC-01", qty=1, loc="WH1-A-02", ref="SO-5531")
    assert [(r["from"], r["to"], r["reason"]) for r in good] == [
        ("customer", "WH1-A-02", "resellable")
    ]
    bad = move(api, kind="return", sku="PHC-01", qty=2, condition="damaged", ref="RMA-77")
    assert [(r["from"], r["to"], r["reason"]) for r in bad] == [
        ("customer", "quarantine", "damaged")
    ]
    held = move(api, kind="return", sku="PHC-01", qty=1, condition="quarantine")
    assert held[0]["to"] == "quarantine"
    assert api.on_hand("PHC-01") == 1  # quarantine is not stock on hand
    virtual = api.get("/v1/stock", sku="PHC-01", loc="quarantine", virtual="true")["stock"]
    assert virtual[0]["on_hand"] == 3
    with_bin = move(api, 422, kind="return", sku="PHC-01", qty=1, condition="damaged",
                    loc="WH1-A-01")  # fmt: skip
    assert with_bin["detail"] == (
        "bad movement: a damaged return goes to quarantine: leave out loc (WH1-A-01)"
    )
    no_bin = move(api, 422, kind="return", sku="PHC-01", qty=1)
    assert no_bin["detail"] == "bad movement: a return needs `loc`: the bin"


def test_quarantined_goods_are_released_to_a_bin_or_written_off_never_below_zero(
    api: Api, db_url: str
) -> None:
    api.seed()
    move(api, kind="return", sku="PHC-01", qty=3, condition="quarantine", ref="RMA-78")
    released = move(api, kind="transfer", sku="PHC-01", qty=2, **{"from": "quarantine"},
                    to="WH1-A-02")  # fmt: skip
    assert [(r["from"], r["to"], r["qty"]) for r in released] == [("quarantine", "WH1-A-02", 2)]
    scrapped = move(api, kind="adjustment", sku="PHC-01", qty=-1, loc="quarantine",
                    reason="damaged")  # fmt: skip
    assert [(r["from"], r["to"], r["reason"]) for r in scrapped] == [
        ("quarantine", "inventory-loss", "damaged")]  # fmt: skip
    empty = move(api, 422, kind="adjustment", sku="PHC-01", qty=-1, loc="quarantine",
                 reason="damaged")  # fmt: skip
    assert empty["detail"] == "insufficient stock: 1 asked, 0 at quarantine"
    found = move(api, 422, kind="adjustment", sku="PHC-01", qty=1, loc="quarantine",
                 reason="found")  # fmt: skip
    assert found["reason"] == "unknown location"
    assert api.on_hand("PHC-01", "WH1-A-02") == 2
    assert api.get("/v1/stock", sku="PHC-01", loc="quarantine", virtual="true", zero="true")[
        "stock"][0]["on_hand"] == 0  # fmt: skip
    assert asyncio.run(_check(db_url)) == []


def test_a_scan_return_with_ref_damaged_or_quarantine_goes_to_quarantine(api: Api) -> None:
    api.seed()
    assert api.scan("hs-1", EAN_PHC, "return", "WH1-A-01", ref="DAMAGED")["status"] == "booked"
    assert api.scan("hs-1", EAN_PHC, "return", "WH1-A-01", ref="QUARANTINE")["status"] == "booked"
    assert api.scan("hs-1", EAN_PHC, "return", "WH1-A-01", ref="SO-1")["status"] == "booked"
    rows = api.get("/v1/movements", kind="return")["movements"]
    assert sorted((r["ref"], r["to"], r["reason"]) for r in rows) == [
        ("DAMAGED", "quarantine", "damaged"),
        ("QUARANTINE", "quarantine", "quarantine"),
        ("SO-1", "WH1-A-01", ""),
    ]
    assert api.on_hand("PHC-01", "WH1-A-01") == 1


def test_a_transfer_moves_bin_to_bin_or_through_in_transit(api: Api, db_url: str) -> None:
    api.seed()
    receive(api, 10)
    direct = move(api, kind="transfer", sku="PHC-01", qty=3, **{"from": "WH1-A-01"},
                  to="WH1-B-02")  # fmt: skip
    assert ends(direct) == [("transfer", "WH1-A-01", "WH1-B-02", 3)]
    out = move(api, kind="transfer", sku="PHC-01", qty=5, **{"from": "WH1-A-01"},
               via_transit=True, ref="TR-9")  # fmt: skip
    assert ends(out) == [("transfer-out", "WH1-A-01", "in-transit/TR-9", 5)]
    assert api.on_hand("PHC-01") == 5  # in transit is not on hand anywhere
    arrived = move(api, kind="transfer-in", sku="PHC-01", qty=4, ref="TR-9", to="WH2-A-01")
    assert ends(arrived) == [("transfer-in", "in-transit/TR-9", "WH2-A-01", 4)]
    too_many = move(api, 422, kind="transfer-in", sku="PHC-01", qty=2, ref="TR-9", to="WH2-A-01")
    assert too_many["detail"] == "no open transfer: 2 asked, 1 at in-transit/TR-9"
    unknown = move(api, 422, kind="transfer-in", sku="PHC-01", qty=1, ref="TR-0", to="WH2-A-01")
    assert unknown["detail"] == "no open transfer: nothing in transit under 'TR-0'"
    same = move(api, 422, kind="transfer", sku="PHC-01", qty=1, **{"from": "WH1-A-01"},
                to="WH1-A-01")  # fmt: skip
    assert same["detail"] == "bad movement: from and to are both WH1-A-01"
    both = move(api, 422, kind="transfer", sku="PHC-01", qty=1, **{"from": "WH1-A-01"},
                to="WH2-A-01", via_transit=True, ref="TR-10")  # fmt: skip
    assert both["reason"] == "bad movement"
    assert api.on_hand_map() == {"PHC-01": {"WH1-A-01": 2, "WH1-B-02": 3, "WH2-A-01": 4}}
    assert asyncio.run(_check(db_url)) == []


async def _check(db_url: str) -> list[Any]:
    db = Database(db_url)
    try:
        return await db.read(check)
    finally:
        await db.dispose()


def test_an_adjustment_needs_a_reason_whose_sign_it_follows(api: Api) -> None:
    api.seed()
    receive(api, 10)
    loss = move(api, kind="adjustment", sku="PHC-01", qty=-2, loc="WH1-A-01", reason="damaged")
    assert [(r["from"], r["to"], r["qty"], r["reason"]) for r in loss] == [
        ("WH1-A-01", "inventory-loss", 2, "damaged")
    ]
    found = move(api, kind="adjustment", sku="PHC-01", qty=1, loc="WH1-A-01", reason="found")
    assert ends(found) == [("adjustment", "inventory-loss", "WH1-A-01", 1)]
    assert move(api, kind="adjustment", sku="PHC-01", qty=-1, loc="WH1-A-01",
                reason="correction")[0]["to"] == "inventory-loss"  # fmt: skip
    assert api.on_hand("PHC-01", "WH1-A-01") == 8
    theft_up = move(api, 422, kind="adjustment", sku="PHC-01", qty=3, loc="WH1-A-01",
                    reason="theft")  # fmt: skip
    assert theft_up["detail"] == (
        "bad movement: theft stock leaves the bin: qty must be negative, got 3"
    )
    zero = move(api, 422, kind="adjustment", sku="PHC-01", qty=0, loc="WH1-A-01", reason="found")
    assert zero["detail"] == "bad movement: an adjustment of 0 changes nothing"
    no_reason = move(api, 422, kind="adjustment", sku="PHC-01", qty=-1, loc="WH1-A-01")
    assert no_reason["reason"] == "invalid request"
    made_up = move(api, 422, kind="adjustment", sku="PHC-01", qty=-1, loc="WH1-A-01",
                   reason="vibes")  # fmt: skip
    assert made_up["reason"] == "invalid request"
    assert api.on_hand("PHC-01", "WH1-A-01") == 8


def test_fields_that_do_not_belong_to_the_kind_are_refused(api: Api) -> None:
    api.seed()
    assert move(api, 422, kind="pick", sku="PHC-01", qty=1, loc="WH1-A-01",
                unit_cost="1.00")["reason"] == "invalid request"  # fmt: skip
    assert move(api, 422, kind="launder", sku="PHC-01", qty=1)["reason"] == "invalid request"
    assert move(api, 422, kind="pick", sku="PHC-01", qty=0, loc="WH1-A-01")["reason"] == (
        "invalid request"
    )
    unknown_sku = api.post("/v1/movements", {"kind": "receive", "sku": "NOPE", "qty": 1,
                                              "loc": "WH1-A-01"}, status=404)  # fmt: skip
    assert unknown_sku["reason"] == "unknown sku"
    unknown_bin = move(api, 422, kind="receive", sku="PHC-01", qty=1, loc="WH9")
    assert unknown_bin["detail"] == "unknown location: no location 'WH9'"
    virtual_bin = move(api, 422, kind="pick", sku="PHC-01", qty=1, loc="supplier")
    assert virtual_bin["reason"] == "unknown location"


def test_a_backdated_movement_keeps_its_time_and_a_future_one_is_refused(api: Api) -> None:
    api.seed()
    [row] = receive(api, 5, at="2026-11-30T08:00:00Z")
    assert row["event_at"] == "2026-11-30T08:00:00.000Z"
    assert (row["clock"], row["flags"]) == ("", "")
    assert row["booked_at"] > row["event_at"]
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    future = move(api, 422, kind="receive", sku="PHC-01", qty=1, loc="WH1-A-01", at=ahead)
    assert future["reason"] == "bad time"
    naive = move(api, 422, kind="receive", sku="PHC-01", qty=1, loc="WH1-A-01",
                 at="2026-11-30T08:00:00")  # fmt: skip
    assert naive["reason"] == "invalid request"
    assert api.on_hand("PHC-01") == 5


def test_a_repeated_idempotency_key_answers_the_first_booking_without_booking_again(
    api: Api,
) -> None:
    api.seed()
    body = {"kind": "receive", "sku": "PHC-01", "qty": 6, "loc": "WH1-A-01",
            "idempotency_key": "rcv-1"}  # fmt: skip
    first = api.client.post("/v1/movements", json=body, headers=ADMIN)
    again = api.client.post("/v1/movements", json=body, headers=ADMIN)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert first.json()["idempotency_key"] == "rcv-1"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.on_hand("PHC-01") == 6
    other = api.post("/v1/movements", body | {"qty": 7}, status=409)
    assert other["detail"] == (
        "idempotency key reused: key 'rcv-1' was sent before with a different movement: "
        "use a new key"
    )
    assert len(api.get("/v1/movements")["movements"]) == 1


def test_a_refused_request_does_not_use_up_its_idempotency_key(api: Api) -> None:
    api.seed()
    body = {"kind": "pick", "sku": "PHC-01", "qty": 2, "loc": "WH1-A-01",
            "idempotency_key": "pick-1"}  # fmt: skip
    assert api.post("/v1/movements", body, status=422)["reason"] == "insufficient stock"
    receive(api, 2)
    assert ends(api.post("/v1/movements", body)["movements"]) == [
        ("pick", "WH1-A-01", "customer", 2)
    ]
    assert api.post("/v1/movements", body)["movements"][0]["qty"] == 2
    assert api.on_hand("PHC-01") == 0


def _seed(conn: Connection) -> None:
    upsert(conn, SkuIn("PHC-01", "Phone case", gtins=(GtinIn(EAN_PHC),)))
    add_location(conn, "WH1-A-01", None)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = await open_database(db_url)
    await database.write(_seed)
    yield database
    await database.dispose()


async def test_the_same_idempotency_key_sent_twice_at_once_books_once(db: Database) -> None:
    request = Manual(kind="receive", sku="PHC-01", qty=3, loc="WH1-A-01")
    answers = await asyncio.gather(
        *(db.write(post, request, "twin", "same-body") for _ in range(4))
    )
    assert sorted(replayed for _, replayed in answers) == [False, True, True, True]
    assert len({str(answer) for answer, _ in answers}) == 1
    assert await db.read(check) == []
    stock = await db.read(lambda conn: conn.exec_driver_sql(
        "SELECT SUM(on_hand) FROM balances b JOIN locations l ON l.id = b.loc_id "
        "WHERE l.code = 'WH1-A-01'").scalar())  # fmt: skip
    assert stock == 3


def test_only_clerks_and_admins_book_movements(api: Api) -> None:
    api.seed()
    body = {"kind": "receive", "sku": "PHC-01", "qty": 1, "loc": "WH1-A-01"}
    assert api.client.post("/v1/movements", json=body, headers=GW1).status_code == 403
    assert api.client.post("/v1/movements", json=body).status_code == 401


def test_the_journal_filters_by_sku_location_kind_ref_flag_and_event_time(api: Api) -> None:
    api.seed()
    api.post("/v1/skus", {"sku": "GUM-12", "name": "Gum", "gtin": "00036000291452"})
    receive(api, 10, at="2026-11-01T10:00:00Z")
    move(api, kind="receive", sku="GUM-12", qty=4, loc="WH1-B-02", at="2026-11-15T10:00:00Z")
    move(api, kind="pick", sku="PHC-01", qty=2, loc="WH1-A-01", order="SO-1",
         at="2026-11-20T10:00:00Z")  # fmt: skip
    move(api, kind="adjustment", sku="PHC-01", qty=-1, loc="WH1-A-01", reason="expired",
         at="2026-11-25T10:00:00Z")  # fmt: skip

    def kinds(**params: Any) -> list[str]:
        return [r["kind"] + ":" + r["sku"] for r in api.get("/v1/movements", **params)["movements"]]

    assert kinds() == ["adjustment:PHC-01", "pick:PHC-01", "receive:GUM-12", "receive:PHC-01"]
    assert kinds(sku="GUM-12") == ["receive:GUM-12"]
    assert kinds(loc="WH1-A-01") == ["adjustment:PHC-01", "pick:PHC-01", "receive:PHC-01"]
    assert kinds(loc="customer") == ["pick:PHC-01"]
    assert kinds(kind="receive") == ["receive:GUM-12", "receive:PHC-01"]
    assert kinds(ref="SO-1") == ["pick:PHC-01"]
    assert kinds(since="2026-11-15T10:00:00Z", until="2026-11-25T10:00:00Z") == [
        "pick:PHC-01", "receive:GUM-12"]  # fmt: skip
    assert kinds(since="2026-11-20T11:00:00+01:00") == ["adjustment:PHC-01", "pick:PHC-01"]
    assert kinds(limit=1) == ["adjustment:PHC-01"]
    assert kinds(flagged="true") == []
    assert len(kinds(flagged="false")) == 4
    [adj] = api.get("/v1/movements", kind="adjustment")["movements"]
    assert (adj["reason"], adj["from"], adj["to"], adj["event_at"]) == (
        "expired", "WH1-A-01", "inventory-loss", "2026-11-25T10:00:00.000Z")  # fmt: skip
    bad = api.client.get("/v1/movements", params={"since": "2026-12-01T00:00:00Z",
                                                  "until": "2026-11-01T00:00:00Z"},
                         headers=ADMIN)  # fmt: skip
    assert (bad.status_code, bad.json()["reason"]) == (422, "bad period")


def test_a_device_clock_two_hours_ahead_is_booked_at_the_gateway_time_and_flagged(
    api: Api,
) -> None:
    api.seed()
    gw = int(time.time() * 1000) - 60_000
    event = scan("hs-1", 1, EAN_PHC, "receive", "WH1-A-01", ts=gw + 2 * HOUR_MS, gw_ts=gw)
    assert api.batch([event])[0]["status"] == "booked"
    [row] = api.get("/v1/movements", flagged="true")["movements"]
    assert row["event_at"] == at_ms(gw)
    assert row["clock"] == "device clock 7200s ahead"
    assert (row["device_at"], row["gateway_at"]) == (at_ms(gw + 2 * HOUR_MS), at_ms(gw))
    assert (row["device_ts"], row["gateway_ts"], row["event_id"]) == (
        gw + 2 * HOUR_MS, gw, "hs-1:1")  # fmt: skip


def test_a_device_clock_before_2020_is_flagged(api: Api) -> None:
    api.seed()
    gw = int(time.time() * 1000) - 60_000
    booted_in_2017 = 1_500_000_000_000
    event = scan("hs-1", 1, EAN_PHC, "receive", "WH1-A-01", ts=booted_in_2017, gw_ts=gw)
    assert api.batch([event])[0]["status"] == "booked"
    [row] = api.get("/v1/movements", flagged="true")["movements"]
    assert (row["clock"], row["event_at"]) == ("device clock before 2020", at_ms(gw))


def test_a_gateway_clock_in_1970_is_flagged_and_the_scan_booked_at_booking_time(
    api: Api,
) -> None:
    api.seed()
    before = at_ms(int(time.time() * 1000) - 1000)
    event = scan("hs-1", 1, EAN_PHC, "receive", "WH1-A-01", ts=0, gw_ts=0)
    event2 = scan("hs-1", 2, EAN_PHC, "receive", "WH1-A-01", ts=1_000, gw_ts=1_500)
    assert [r["status"] for r in api.batch([event, event2])] == ["booked", "booked"]
    rows = api.get("/v1/movements", flagged="true")["movements"]
    assert sorted(r["clock"] for r in rows) == [
        "gateway clock before 2020",
        "gateway clock before 2020; device clock before 2020",
    ]
    for row in rows:
        assert row["event_at"] >= before
        assert row["event_at"] == row["booked_at"]


def test_a_gateway_clock_ahead_of_the_ledger_is_flagged_and_the_device_checked_against_it(
    api: Api,
) -> None:
    api.seed()
    now = int(time.time() * 1000)
    event = scan("hs-1", 1, EAN_PHC, "receive", "WH1-A-01", ts=now - 1000, gw_ts=now + 2 * HOUR_MS)
    assert api.batch([event])[0]["status"] == "booked"
    [row] = api.get("/v1/movements", flagged="true")["movements"]
    assert row["clock"].startswith("gateway clock ") and row["clock"].endswith("s ahead")
    assert row["event_at"] == at_ms(now - 1000)


def test_an_offline_scan_three_days_late_keeps_its_honest_device_time(api: Api) -> None:
    api.seed()
    now_ms = int(time.time() * 1000)
    scanned = now_ms - 3 * 24 * HOUR_MS
    event = scan("hs-1", 1, EAN_PHC, "receive", "WH1-A-01", ts=scanned, gw_ts=now_ms - 1000)
    assert api.batch([event])[0]["status"] == "booked"
    assert api.get("/v1/movements", flagged="true")["movements"] == []
    [row] = api.get("/v1/movements")["movements"]
    assert (row["clock"], row["event_at"]) == ("", at_ms(scanned))
    assert row["booked_at"] > row["event_at"]
