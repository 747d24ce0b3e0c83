"""Reservations from channel orders, safety stock and availability, on both backends."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Connection

from server.app import open_database
from server.catalog.service import GtinIn, SkuIn, upsert
from server.cli import add_commands
from server.db.engine import Database
from server.errors import NotFound
from server.ingest.service import process_batch
from server.ledger.check import check
from server.locations.service import upsert as add_location
from server.reservations import service
from tests.server.support import ADMIN, Api, Receiver, execute_sql, scan, wait_for

PHC = "5901234123457"
GUM = "036000291452"
SECRET = "channel-secret-0123456789"
FIGURES = ("on_hand", "reserved", "safety_stock", "available")


def reserve(api: Api, order: str, *lines: dict[str, Any], status: int = 200, **extra: Any) -> Any:
    return api.post("/v1/reservations", {"order": order, "lines": list(lines)} | extra, status)


def put(api: Api, path: str, body: Any, status: int = 200) -> Any:
    response = api.client.put(path, json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    return response.json()


def stock(api: Api, sku: str = "PHC-01") -> dict[str, dict[str, int]]:
    """loc -> {on_hand, reserved, safety_stock, available} summed over lots."""
    out: dict[str, dict[str, int]] = {}
    for row in api.get("/v1/stock", sku=sku)["stock"]:
        per = out.setdefault(row["loc"], dict.fromkeys(FIGURES, 0))
        for key in per:
            per[key] += row[key]
    return out


def holds(doc: dict[str, Any], sku: str = "PHC-01") -> dict[str, int]:
    [line] = [x for x in doc["lines"] if x["sku"] == sku]
    return {h["loc"]: h["reserved"] for h in line["locations"] if h["reserved"]}


def ledger_check(db_url: str) -> int:
    parser = argparse.ArgumentParser(prog="stockwire")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["ledger", "check", "--db", db_url])
    code: int = args.handler(args)
    return code


def test_an_order_is_held_where_the_most_is_available_and_shows_in_stock(
    api: Api, db_url: str
) -> None:
    api.seed()
    api.scan("dock", PHC, "receive", "WH1-A-01", qty=5)
    api.scan("dock", PHC, "receive", "WH1-A-02", qty=8)
    doc = reserve(api, "SO-1", {"sku": "PHC-01", "qty": 10}, channel="webshop")
    assert (doc["order"], doc["channel"], doc["status"], doc["replayed"]) == (
        "SO-1", "webshop", "open", False)  # fmt: skip
    assert holds(doc) == {"WH1-A-02": 8, "WH1-A-01": 2}  # most available first, then split
    [line] = doc["lines"]
    assert (line["qty"], line["reserved"], line["consumed"], line["short"]) == (10, 10, 0, 0)
    assert stock(api) == {
        "WH1-A-01": {"on_hand": 5, "reserved": 2, "safety_stock": 0, "available": 3},
        "WH1-A-02": {"on_hand": 8, "reserved": 8, "safety_stock": 0, "available": 0},
    }
    assert api.get("/v1/reservations/SO-1") == {k: v for k, v in doc.items() if k != "replayed"}
    assert ledger_check(db_url) == 0


def test_repeating_an_order_returns_the_existing_reservation(api: Api) -> None:
    api.seed()
    api.scan("dock", PHC, "receive", "WH1-A-01", qty=5)
    first = reserve(api, "SO-1", {"sku": "PHC-01", "qty": 3})
    again = reserve(api, "SO-1", {"sku": "PHC-01", "qty": 3})
    assert again["replayed"] is True
    assert again["lines"] == first["lines"]
    assert stock(api)["WH1-A-01"]["reserved"] == 3
    other = reserve(api, "SO-1", {"sku": "PHC-01", "qty": 4}, status=409)
    assert other["reason"] == "reservation differs"
    assert "already reserves 3 of PHC-01, not 4" in other["detail"]
    twice = reserve(api, "SO-2", {"sku": "PHC-01", "qty": 1}, {"sku": "PHC-01", "qty": 1},
                    status=422)  # fmt: skip
    assert twice["reason"] == "duplicate line"


def _seed(conn: Connection) -> None:
    upsert(conn, SkuIn("PHC-01", "Phone case", gtins=(GtinIn(PHC),)))
    for code in ("WH1-A-01", "WH1-A-02"):
        add_location(conn, code, None)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = await open_database(db_url)
    await database.write(_seed)
    await process_batch(database, "gw-1", [scan("dock", 1, PHC, "receive", "WH1-A-01", qty=10)])
    yield database
    await database.dispose()


async def test_identical_orders_racing_reserve_once(db: Database) -> None:
    for order, qty in (("SO-1", 4), ("SO-2", 7), ("SO-3", 6)):
        lines = [service.LineIn("PHC-01", qty)]
        answers = await asyncio.gather(
            *(db.write(service.create, order, "", lines) for _ in range(4)),
            return_exceptions=True,
        )
        if order == "SO-2":  # 4 + 7 > 10: every copy is refused the same way
            assert [getattr(a, "detail", a) for a in answers] == [
                "PHC-01: 7 asked, 6 available"
            ] * 4
            continue
        replayed = sorted(a["replayed"] for a in answers if isinstance(a, dict))
        assert replayed == [False, True, True, True], answers
    assert holds(await db.read(service.get, "SO-1")) == {"WH1-A-01": 4}
    assert holds(await db.read(service.get, "SO-3")) == {"WH1-A-01": 6}
    with pytest.raises(NotFound):
        await db.read(service.get, "SO-2")
    assert await db.read(check) == []


def test_an_order_short_of_stock_reserves_nothing(api: Api) -> None:
    api.seed()
    api.scan("dock", PHC, "receive", "WH1-A-01", qty=5)
    api.scan("dock", GUM, "receive", "WH1-A-02", qty=2)
    refused = reserve(api, "SO-1", {"sku": "PHC-01", "qty": 3}, {"sku": "GUM-12", "qty": 5},
                      status=422)  # fmt: skip
    assert refused["reason"] == "insufficient available"
    assert refused["detail"] == "insufficient available: GUM-12: 5 asked, 2 available"
    assert api.client.get("/v1/reservations/SO-1", headers=ADMIN).status_code == 404
    assert stock(api)["WH1-A-01"]["reserved"] == 0
    at = reserve(api, "SO-2", {"sku": "PHC-01", "qty": 3, "loc": "WH1-A-02"}, status=422)
    assert at["detail"].endswith("PHC-01: 3 asked, 0 available at WH1-A-02")
    assert reserve(api, "SO-2", {"sku": "PHC-01", "qty": 3, "loc": "WH1-A-01"})["status"] == "open"


def test_cancelling_releases_one_line_or_the_whole_order(api: Api, db_url: str) -> None:
    api.seed()
    api.scan("dock", PHC, "receive", "WH1-A-01", qty=5)
    api.scan("dock", GUM, "receive", "WH1-A-01", qty=5)
    reserve(api, "SO-1", {"sku": "PHC-01", "qty": 2}, {"sku": "GUM-12", "qty": 3})
    doc = api.post("/v1/reservations/SO-1/cancel", {"sku": "GUM-12"})
    assert [(x["sku"], x["status"], x["reserved"]) for x in doc["lines"]] == [
        ("GUM-12", "cancelled", 0), ("PHC-01", "open", 2)]  # fmt: skip
    assert doc["status"] == "open"
    assert stock(api, "GUM-12")["WH1-A-01"]["reserved"] == 0
    doc = api.post("/v1/reservations/SO-1/cancel")
    assert doc["status"] == "cancelled"
    assert api.post("/v1/reservations/SO-1/cancel")["status"] == "cancelled"  # harmless twice
    assert stock(api)["WH1-A-01"]["reserved"] == 0
    # repeating a cancelled order does not reserve it again
    assert reserve(api, "SO-1", {"sku": "PHC-01", "qty": 2})["status"] == "cancelled"
    assert stock(api)["WH1-A-01"]["reserved"] == 0
    missing = api.post("/v1/reservations/SO-404/cancel", status=404)
    assert missing["reason"] == "unknown reservation"
    assert ledger_check(db_url) == 0


def test_a_pick_for_an_order_consumes_its_reservation(api: Api, db_url: str) -> None:
    api.seed()
    api.scan("dock", PHC, "receive", "WH1-A-01", qty=5)
    api.scan("dock", PHC, "receive", "WH1-A-02", qty=2)
    reserve(api, "SO-1", {"sku": "PHC-01", "qty": 3, "loc": "WH1-A-01"})
    assert api.scan("hs-1", PHC, "pick", "WH1-A-01", ref="SO-1", qty=2)["status"] == "booked"
    [line] = api.get("/v1/reservations/SO-1")["lines"]
    assert (line["reserved"], line["consumed"], line["status"]) == (1, 2, "open")
    assert stock(api)["WH1-A-01"] == {"on_hand": 3, "reserved": 1, "safety_stock": 0,
                                      "available": 2}  # fmt: skip
    # the rest picked from another bin: the order got its goods, the hold at A-01 is freed
    assert api.scan("hs-1", PHC, "pick", "WH1-A-02", ref="SO-1")["status"] == "booked"
    doc = api.get("/v1/reservations/SO-1")
    assert doc["status"] == "consumed"
    assert doc["lines"][0]["locations"] == [
        {"loc": "WH1-A-01", "reserved": 0, "consumed": 2},
        {"loc": "WH1-A-02", "reserved": 0, "consumed": 1}]  # fmt: skip
    assert stock(api)["WH1-A-01"]["reserved"] == 0
    assert api.get("/v1/reservations", status="consumed", sku="PHC-01")["reservations"][0][
        "order"] == "SO-1"  # fmt: skip
    assert api.get("/v1/reservations", status="open")["reservations"] == []
    cancel = api.post("/v1/reservations/SO-1/cancel", {"sku": "PHC-01"}, status=409)
    assert cancel["reason"] == "reservation consumed"
    # a manual pick naming the order consumes it the same way
    reserve(api, "SO-2", {"sku": "PHC-01", "qty": 2})
    body = {"kind": "pick", "sku": "PHC-01", "qty": 2, "loc": "WH1-A-01", "order": "SO-2"}
    api.post("/v1/movements", body)
    assert api.get("/v1/reservations/SO-2")["status"] == "consumed"
    assert ledger_check(db_url) == 0


def test_a_pick_may_not_take_stock_reserved_for_another_order(api: Api, db_url: str) -> None:
    api.seed()
    api.scan("dock", PHC, "receive", "WH1-A-01", qty=5)
    reserve(api, "SO-1", {"sku": "PHC-01", "qty": 4})
    refused = api.scan("hs-1", PHC, "pick", "WH1-A-01", qty=2)
    assert (refused["status"], refused["reason"]) == ("refused", "insufficient stock")
    assert (
        refused["detail"] == "2 asked, 5 on hand at WH1-A-01 of which 4 reserved for other orders"
    )
    other = api.scan("hs-1", PHC, "pick", "WH1-A-01", ref="SO-9", qty=2)
    assert other["reason"] == "insufficient stock"
    manual = {"kind": "pick", "sku": "PHC-01", "qty": 2, "loc": "WH1-A-01"}
    assert api.post("/v1/movements", manual, status=422)["reason"] == "insufficient stock"
    assert api.scan("hs-1", PHC, "pick", "WH1-A-01")["status"] == "booked"  # the free one
    assert api.scan("hs-1", PHC, "pick", "WH1-A-01", ref="SO-1", qty=4)["status"] == "booked"
    assert stock(api) == {}
    assert api.get("/v1/reservations/SO-1")["status"] == "consumed"
    assert ledger_check(db_url) == 0


def test_stock_lost_under_a_reservation_is_held_again_elsewhere_or_left_short(
    api: Api, db_url: str
) -> None:
    api.seed()
    api.scan("dock", PHC, "receive", "WH1-A-01", qty=5)
    api.scan("dock", PHC, "receive", "WH1-A-02", qty=1)
    reserve(api, "SO-1", {"sku": "PHC-01", "qty": 4, "loc": "WH1-A-01"})
    damaged = {"kind": "adjustment", "sku": "PHC-01", "qty": -3, "loc": "WH1-A-01",
               "reason": "damaged"}  # fmt: skip
    api.post("/v1/movements", damaged)
    [line] = api.get("/v1/reservations/SO-1")["lines"]
    assert holds({"lines": [line]}) == {"WH1-A-01": 2, "WH1-A-02": 1}
    assert (line["reserved"], line["short"], line["status"]) == (3, 1, "open")
    # a transfer out of reserved stock is refused like a pick
    out = api.scan("hs-1", PHC, "transfer-out", "WH1-A-01", ref="TR-1")
    assert out["reason"] == "insufficient stock"
    # moved to another bin, the hold follows it
    move = {"kind": "transfer", "sku": "PHC-01", "qty": 2, "from": "WH1-A-01", "to": "WH1-B-02"}
    api.post("/v1/movements", move)
    doc = api.get("/v1/reservations/SO-1")
    assert holds(doc) == {"WH1-A-02": 1, "WH1-B-02": 2}
    assert stock(api)["WH1-B-02"] == {"on_hand": 2, "reserved": 2, "safety_stock": 0,
                                      "available": 0}  # fmt: skip
    assert ledger_check(db_url) == 0


def test_safety_stock_is_held_back_from_availability_and_from_channels(api: Api) -> None:
    receiver = Receiver(SECRET).start()
    try:
        api.seed()
        api.post("/v1/channels", {"name": "webshop", "kind": "webhook", "url": receiver.url,
                                  "secret": SECRET, "safety_stock": 1})  # fmt: skip
        api.scan("dock", PHC, "receive", "WH1-A-01", qty=10)
        api.scan("dock", PHC, "receive", "WH1-A-02", qty=3)
        assert wait_for(lambda: receiver.last().get("PHC-01") == 12)
        put(api, "/v1/skus/PHC-01/safety-stock", {"qty": 2})
        doc = put(api, "/v1/skus/PHC-01/safety-stock", {"qty": 3, "loc": "WH1-A-01"})
        assert doc == {"sku": "PHC-01", "safety_stock": 2, "locations": {"WH1-A-01": 3}}
        assert wait_for(lambda: receiver.last().get("PHC-01") == 13 - 2 - 3 - 1)
        reserve(api, "SO-1", {"sku": "PHC-01", "qty": 4})
        assert wait_for(lambda: receiver.last().get("PHC-01") == 3)
        [avail] = api.get("/v1/availability", sku="PHC-01")["availability"]
        assert avail == {
            "sku": "PHC-01", "on_hand": 13, "reserved": 4, "safety_stock": 5,
            "sku_safety_stock": 2, "available": 4,
            "locations": [
                {"loc": "WH1-A-01", "on_hand": 10, "reserved": 4, "safety_stock": 3,
                 "available": 3},
                {"loc": "WH1-A-02", "on_hand": 3, "reserved": 0, "safety_stock": 0,
                 "available": 3},
            ],
        }  # fmt: skip
        assert stock(api)["WH1-A-01"] == {"on_hand": 10, "reserved": 4, "safety_stock": 3,
                                          "available": 3}  # fmt: skip
        short = reserve(api, "SO-2", {"sku": "PHC-01", "qty": 5}, status=422)
        assert short["detail"].endswith("PHC-01: 5 asked, 4 available")
        put(api, "/v1/skus/PHC-01/safety-stock", {"qty": 20})
        assert wait_for(lambda: receiver.last().get("PHC-01") == 0)  # never below 0
        assert api.get("/v1/availability", sku="PHC-01")["availability"][0]["available"] == -14
        bad = put(api, "/v1/skus/PHC-01/safety-stock", {"qty": 1, "loc": "quarantine"}, 422)
        assert bad["reason"] == "unknown location"
    finally:
        receiver.stop()


def test_an_order_of_a_registered_channel_is_held_at_its_locations(api: Api) -> None:
    receiver = Receiver(SECRET).start()
    try:
        api.seed()
        api.post("/v1/channels", {"name": "store", "kind": "webhook", "url": receiver.url,
                                  "secret": SECRET, "locations": ["WH1-A-02"]})  # fmt: skip
        api.scan("dock", PHC, "receive", "WH1-A-01", qty=10)
        api.scan("dock", PHC, "receive", "WH1-A-02", qty=3)
        doc = reserve(api, "SO-1", {"sku": "PHC-01", "qty": 2}, channel="store")
        assert holds(doc) == {"WH1-A-02": 2}
        short = reserve(api, "SO-2", {"sku": "PHC-01", "qty": 2}, channel="store", status=422)
        assert short["detail"].endswith("PHC-01: 2 asked, 1 available")
        assert wait_for(lambda: receiver.last().get("PHC-01") == 1)
    finally:
        receiver.stop()


def test_ledger_check_names_a_tampered_reserved(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.seed()
    api.scan("dock", PHC, "receive", "WH1-A-01", qty=5)
    reserve(api, "SO-1", {"sku": "PHC-01", "qty": 3})
    assert ledger_check(db_url) == 0
    execute_sql(db_url, "UPDATE balances SET reserved = 4 WHERE reserved = 3")
    assert ledger_check(db_url) == 1
    err = capsys.readouterr().err
    assert "PHC-01 at WH1-A-01: reserved 4, open reservations say 3 (SO-1 3)" in err
    execute_sql(
        db_url,
        "UPDATE balances SET reserved = 7 WHERE reserved = 4",
        "UPDATE reservation_holds SET reserved = 7",
    )
    assert ledger_check(db_url) == 1
    err = capsys.readouterr().err
    assert "PHC-01 at WH1-A-01: reserved 7 but 5 on hand: promised twice" in err
    assert "open reservations say" not in err


def test_only_clerks_and_admins_reserve(api: Api) -> None:
    api.seed()
    token = api.post("/v1/tokens", {"name": "viewer", "role": "readonly"})["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"order": "SO-1", "lines": [{"sku": "PHC-01", "qty": 1}]}
    assert api.client.post("/v1/reservations", json=body, headers=headers).status_code == 403
    assert api.client.get("/v1/availability", headers=headers).status_code == 200
