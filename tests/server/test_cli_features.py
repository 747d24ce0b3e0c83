"""The ledger's features on the command line (`stockwire ledger stock|quarantine|count|reserve|
reservation|move`, `stockwire report shrinkage`): the same services, answers and refusals as
the API, and CLI writes run the API's hooks (reservations consumed by picks, reorder alerts,
channel pushes), on both backends."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from stockwire.cli import main
from tests.server.support import ADMIN, Api, Receiver, scan, wait_for

PHC = "5901234123457"
UNKNOWN = "4006381333931"  # a valid EAN-13 the catalog does not know
SECRET = "channel-secret-0123456789"


class Cli:
    """`stockwire ARGV --db URL` run in-process: (exit code, stdout, stderr)."""

    def __init__(self, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db_url = db_url
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*argv, "--db", self.db_url])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str) -> Any:
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_url, capsys)


def stocktake(api: Api, *lines: tuple[str, str, int], ref: str = "OPEN") -> None:
    body = [{"sku": sku, "loc": loc, "qty": qty} for sku, loc, qty in lines]
    api.post("/v1/stocktakes", {"ref": ref, "lines": body})


def test_an_admin_reads_balances_with_reserved_and_safety_stock_from_the_command_line(
    api: Api, cli: Cli, tmp_path: Any
) -> None:
    api.seed()
    stocktake(api, ("PHC-01", "WH1-A-01", 10), ("PHC-01", "WH1-A-02", 4), ("GUM-12", "WH1-A-01", 7))
    api.post("/v1/reservations", {"order": "SO-1", "lines": [{"sku": "PHC-01", "qty": 3,
                                                              "loc": "WH1-A-01"}]})  # fmt: skip
    response = api.client.put(
        "/v1/skus/PHC-01/safety-stock", json={"qty": 2, "loc": "WH1-A-01"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text

    code, out, _ = cli("ledger", "stock", "--sku", "PHC-01")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["SKU", "location", "lot", "expiry", "on", "hand", "reserved",
                              "safety", "available"]  # fmt: skip
    assert [row.split() for row in rows] == [
        ["PHC-01", "WH1-A-01", "-", "-", "10", "3", "2", "5"],
        ["PHC-01", "WH1-A-02", "-", "-", "4", "0", "0", "4"],
    ]
    assert cli.json("ledger", "stock") == api.get("/v1/stock")
    under = cli.json("ledger", "stock", "--under", "WH1-A-01")
    assert under == api.get("/v1/stock", under="WH1-A-01")
    assert under["totals"] == [
        {"sku": "GUM-12", "on_hand": 7, "reserved": 0, "available": 7},
        {"sku": "PHC-01", "on_hand": 10, "reserved": 3, "available": 5},
    ]
    assert cli("ledger", "stock", "--sku", "NOPE")[1].strip() == "(no stock)"
    code, _, err = cli("ledger", "stock", "--under", "NOWHERE")
    assert (code, err.strip()) == (1, "stockwire ledger stock: unknown location: NOWHERE")
    code = main(["ledger", "stock", "--db", str(tmp_path / "missing.db")])
    assert code == 2


def test_an_admin_maps_a_quarantined_code_from_the_command_line_and_its_scans_are_booked(
    api: Api, cli: Cli
) -> None:
    api.seed()
    stocktake(api, ("PHC-01", "WH1-A-01", 10))
    for dev in ("hs-01", "hs-02"):
        assert api.scan(dev, UNKNOWN, "pick", "WH1-A-01")["reason"] == "unknown barcode"
    code, out, _ = cli("ledger", "quarantine", "list", "--status", "open")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and all("unknown barcode" in line for line in lines)
    first, second = (e["id"] for e in api.get("/v1/quarantine")["entries"])
    assert lines[0].startswith(f"#{first} ") and f"code '{UNKNOWN}'" in lines[0]

    code, _, err = cli("ledger", "quarantine", "map", str(first), "--sku", "NOPE")
    assert (code, err.strip()) == (1, "stockwire ledger quarantine map: unknown sku: NOPE")
    code, _, err = cli("ledger", "quarantine", "map", str(first), "--sku", "PHC-01",
                       "--multiplier", "0")  # fmt: skip
    assert code == 1 and "invalid request: multiplier: Input should be greater than or" in err
    code, out, _ = cli("ledger", "quarantine", "map", str(first), "--sku", "PHC-01")
    assert code == 0
    assert out.splitlines()[0] == f"GTIN 0{UNKNOWN} -> PHC-01 x1: 2 of 2 entries booked"
    assert api.on_hand("PHC-01", "WH1-A-01") == 8
    assert api.get("/v1/quarantine", status="open")["entries"] == []
    code, _, err = cli("ledger", "quarantine", "replay", str(second))
    assert (code, err.strip()) == (
        1, f"stockwire ledger quarantine replay: already replayed: {second}")  # fmt: skip
    code, _, err = cli("ledger", "quarantine", "replay", "999999")
    assert (code, err.strip()) == (
        1, "stockwire ledger quarantine replay: unknown quarantine entry: 999999")  # fmt: skip
    assert cli("ledger", "check")[0] == 0


def test_a_quarantined_scan_replayed_from_the_command_line_stays_open_until_its_cause_is_fixed(
    api: Api, cli: Cli
) -> None:
    api.seed()
    assert api.scan("hs-01", PHC, "pick", "WH1-A-01")["reason"] == "insufficient stock"
    [entry] = api.get("/v1/quarantine")["entries"]
    still = cli.json("ledger", "quarantine", "replay", str(entry["id"]))
    assert (still["status"], still["reason"], still["attempts"]) == (
        "open", "insufficient stock", 2)  # fmt: skip
    stocktake(api, ("PHC-01", "WH1-A-01", 5))
    code, out, _ = cli("ledger", "quarantine", "replay", str(entry["id"]))
    assert code == 0 and out.split()[:2] == [f"#{entry['id']}", "replayed"]
    assert api.on_hand("PHC-01", "WH1-A-01") == 4


def counted(api: Api, dev: str, code: str, loc: str, ref: str, qty: int) -> str:
    """A count scan made now (a recount takes no scan from before it); its status."""
    at = int(time.time() * 1000)
    result: str = api.batch([scan(dev, api.next_seq(dev), code, "count", loc, ref, qty, ts=at,
                                  gw_ts=at)])[0]["status"]  # fmt: skip
    return result


def test_a_blind_cycle_count_runs_from_opening_to_approval_on_the_command_line(
    api: Api, cli: Cli
) -> None:
    api.seed()
    stocktake(api, ("PHC-01", "WH1-A-01", 10), ("GUM-12", "WH1-A-02", 6))
    code, _, err = cli("ledger", "count", "open", "CC-X", "--loc", "NOWHERE")
    assert (code, err.strip()) == (
        1, "stockwire ledger count open: unknown location: no location 'NOWHERE'")  # fmt: skip
    code, out, _ = cli("ledger", "count", "open", "CC-1", "--loc", "WH1-A-01", "--loc",
                       "WH1-A-02", "--blind")  # fmt: skip
    assert code == 0
    assert out.splitlines()[1] == "bins: WH1-A-01, WH1-A-02  SKUs: all"
    for qty in (4, 5):
        assert counted(api, "hs-01", PHC, "WH1-A-01", "CC-1", qty) == "booked"
    assert counted(api, "hs-02", "036000291452", "WH1-A-02", "CC-1", 6) == "booked"
    shown = cli.json("ledger", "count", "show", "CC-1")
    assert shown == api.get("/v1/counts/CC-1")
    assert {x["sku"]: (x["expected"], x["counted"]) for x in shown["lines"]} == {
        "GUM-12": (None, 6), "PHC-01": (None, 9)}  # fmt: skip
    code, out, _ = cli("ledger", "count", "show", "CC-1")
    rows = [line.split() for line in out.splitlines()]
    assert ["PHC-01", "WH1-A-01", "-", "-", "-", "9", "-", "-", "open"] in rows
    code, _, err = cli("ledger", "count", "approve", "CC-1")
    assert (code, err.strip()) == (1, "stockwire ledger count approve: count not in review: "
                                      "count CC-1 is open: submit it first")  # fmt: skip

    review = cli.json("ledger", "count", "submit", "CC-1")
    assert review["status"] == "review" and review["totals"]["variance"] == -1
    reopened = cli.json("ledger", "count", "recount", "CC-1", "--line", "PHC-01", "WH1-A-01")
    assert reopened["status"] == "open"
    assert counted(api, "hs-01", PHC, "WH1-A-01", "CC-1", 8) == "booked"
    assert cli("ledger", "count", "submit", "CC-1")[0] == 0
    code, out, _ = cli("ledger", "count", "approve", "CC-1")
    assert code == 0
    assert out.splitlines()[:2] == ["booked 1 variance(s)", "  PHC-01 at WH1-A-01: -2"]
    assert (api.on_hand("PHC-01", "WH1-A-01"), api.on_hand("GUM-12", "WH1-A-02")) == (8, 6)
    code, out, _ = cli("ledger", "count", "list", "--status", "closed")
    assert out.split()[:4] == ["CC-1", "scoped", "blind", "closed"]
    code, _, err = cli("ledger", "count", "cancel", "CC-1")
    assert (code, err.strip()) == (
        1, "stockwire ledger count cancel: count not open: count CC-1 is closed")  # fmt: skip
    assert cli("ledger", "count", "list", "--status", "open")[1].strip() == "(no counts)"


def pushed(receiver: Receiver) -> tuple[int | None, int | None]:
    """What the channel was last told is available of PHC-01 and GUM-12."""
    last = receiver.last()
    return last.get("PHC-01"), last.get("GUM-12")


def test_an_order_reserved_and_cancelled_from_the_command_line_reaches_the_channel(
    api: Api, cli: Cli
) -> None:
    receiver = Receiver(SECRET).start()
    try:
        api.seed()
        api.post("/v1/channels", {"name": "webshop", "kind": "webhook", "url": receiver.url,
                                  "secret": SECRET})  # fmt: skip
        stocktake(api, ("PHC-01", "WH1-A-01", 10), ("GUM-12", "WH1-A-02", 5))
        assert wait_for(lambda: receiver.last().get("PHC-01") == 10)

        code, out, _ = cli("ledger", "reserve", "SO-1", "PHC-01=3", "GUM-12=2@WH1-A-02",
                           "--channel", "webshop")  # fmt: skip
        assert code == 0
        assert out.splitlines()[0] == "order SO-1 (webshop): open"
        assert "PHC-01       open      qty 3: reserved 3, picked 0  (WH1-A-01 3)" in out
        # written in the transaction: the running ledger's dispatcher pushes it on its next poll
        assert wait_for(lambda: pushed(receiver) == (7, 3))
        assert api.get("/v1/reservations/SO-1")["status"] == "open"

        again = cli.json("ledger", "reserve", "SO-1", "PHC-01=3", "GUM-12=2@WH1-A-02")
        assert again["replayed"] is True
        code, _, err = cli("ledger", "reserve", "SO-1", "PHC-01=4")
        assert code == 1
        assert err.strip() == ("stockwire ledger reserve: reservation differs: "
                               "order SO-1 already reserves 3 of PHC-01, not 4")  # fmt: skip
        code, _, err = cli("ledger", "reserve", "SO-2", "PHC-01=8")
        assert err.strip().endswith("insufficient available: PHC-01: 8 asked, 7 available")
        assert code == 1 and api.get("/v1/reservations", status="open")["reservations"] != []
        code, _, err = cli("ledger", "reserve", "SO-3", "PHC-01=0")
        assert code == 1 and "invalid request: qty: Input should be greater than" in err

        listed = cli.json("ledger", "reservation", "list", "--sku", "PHC-01")
        assert listed == api.get("/v1/reservations", sku="PHC-01")
        cancelled = cli.json("ledger", "reservation", "cancel", "SO-1", "--sku", "GUM-12")
        assert [(x["sku"], x["status"]) for x in cancelled["lines"]] == [
            ("GUM-12", "cancelled"), ("PHC-01", "open")]  # fmt: skip
        assert wait_for(lambda: pushed(receiver) == (7, 5))
        code, out, _ = cli("ledger", "reservation", "show", "SO-1")
        assert code == 0 and out.splitlines()[0] == "order SO-1 (webshop): open"
        code, _, err = cli("ledger", "reservation", "show", "SO-404")
        assert (code, err.strip()) == (
            1, "stockwire ledger reservation show: unknown reservation: order SO-404")  # fmt: skip
    finally:
        receiver.stop()


def test_a_clerk_books_movements_from_the_command_line_as_post_movements_does(
    api: Api, cli: Cli
) -> None:
    api.seed()
    code, out, _ = cli("ledger", "move", "receive", "--sku", "CLN-200", "--qty", "40", "--loc",
                       "WH1-A-01", "--lot", "L1", "--expiry", "2030-01-31", "--unit-cost", "3.50",
                       "--idempotency-key", "rcv-1")  # fmt: skip
    assert code == 0
    assert out.startswith("#") and "receive CLN-200 40 supplier -> WH1-A-01" in out
    assert "lot L1  expiry 2030-01-31" in out and "cost 3.5000" in out
    # the same key again books nothing, from the CLI or from the API (the same fingerprint)
    code, out, _ = cli("ledger", "move", "receive", "--sku", "CLN-200", "--qty", "40", "--loc",
                       "WH1-A-01", "--lot", "L1", "--expiry", "2030-01-31", "--unit-cost", "3.50",
                       "--idempotency-key", "rcv-1")  # fmt: skip
    assert code == 0 and "nothing booked now" in out.splitlines()[0]
    body = {"kind": "receive", "sku": "CLN-200", "qty": 40, "loc": "WH1-A-01", "lot": "L1",
            "expiry": "2030-01-31", "unit_cost": "3.50", "idempotency_key": "rcv-1"}  # fmt: skip
    response = api.client.post("/v1/movements", json=body, headers=ADMIN)
    assert response.headers.get("Idempotent-Replayed") == "true"
    assert api.on_hand("CLN-200") == 40

    moved = cli.json("ledger", "move", "transfer", "--sku", "CLN-200", "--qty", "5", "--loc",
                     "WH1-A-01", "--to", "WH1-B-02")  # fmt: skip
    assert [(m["from"], m["to"], m["qty"], m["lot"]) for m in moved["movements"]] == [
        ("WH1-A-01", "WH1-B-02", 5, "L1")]  # fmt: skip
    assert api.get("/v1/reorder-alerts")["alerts"] == []
    # stock taken below the reorder point opens an alert (the in-transaction hook)
    lost = cli.json("ledger", "move", "adjustment", "--sku", "CLN-200", "--qty", "-12", "--loc",
                    "WH1-A-01", "--reason", "damaged")  # fmt: skip
    assert [(m["to"], m["reason"]) for m in lost["movements"]] == [("inventory-loss", "damaged")]
    [alert] = api.get("/v1/reorder-alerts")["alerts"]
    assert (alert["sku"], alert["available"]) == ("CLN-200", 28)
    # a pick for an order consumes its reservation (the after-move hook)
    api.post("/v1/reservations", {"order": "SO-9", "lines": [{"sku": "CLN-200", "qty": 10}]})
    code, _, _ = cli("ledger", "move", "pick", "--sku", "CLN-200", "--qty", "10", "--loc",
                     "WH1-A-01", "--order", "SO-9")  # fmt: skip
    assert code == 0
    assert api.get("/v1/reservations/SO-9")["status"] == "consumed"
    assert api.on_hand("CLN-200", "WH1-A-01") == 13

    code, _, err = cli("ledger", "move", "adjustment", "--sku", "CLN-200", "--qty", "-1",
                       "--loc", "WH1-A-01")  # fmt: skip
    assert (code, err.strip()) == (
        1, "stockwire ledger move: invalid request: reason: Field required")  # fmt: skip
    code, _, err = cli("ledger", "move", "receive", "--sku", "CLN-200", "--qty", "1", "--loc",
                       "WH1-A-01", "--reason", "found")  # fmt: skip
    assert code == 1 and "reason: Extra inputs are not permitted" in err
    code, _, err = cli("ledger", "move", "pick", "--sku", "CLN-200", "--qty", "99", "--loc",
                       "WH1-A-01")  # fmt: skip
    assert code == 1 and err.startswith("stockwire ledger move: insufficient stock: ")
    assert cli("ledger", "check")[0] == 0


def test_the_shrinkage_report_on_the_command_line_is_the_apis(api: Api, cli: Cli) -> None:
    api.seed()
    stocktake(api, ("GUM-12", "WH1-A-01", 40), ("PHC-01", "WH1-A-02", 5))
    api.post("/v1/movements", {"kind": "adjustment", "sku": "GUM-12", "qty": -3,
                               "loc": "WH1-A-01", "reason": "theft"})  # fmt: skip
    api.post("/v1/movements", {"kind": "adjustment", "sku": "PHC-01", "qty": 1,
                               "loc": "WH1-A-02", "reason": "found"})  # fmt: skip
    code, out, _ = cli("report", "shrinkage")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Shrinkage start .. now (exclusive)"
    assert [line.split() for line in lines[2:]] == [
        ["GUM-12", "0.5000", "0", "0", "3", "0", "3", "1.50"],
        ["PHC-01", "2.0000", "0", "0", "0", "1", "-1", "-2.00"],
        ["TOTAL", "2", "-0.50"],
    ]
    assert cli.json("report", "shrinkage") == api.get("/v1/reports/shrinkage")
    csv = api.client.get("/v1/reports/shrinkage", params={"format": "csv"}, headers=ADMIN).text
    assert cli("report", "shrinkage", "--csv")[1] == csv
    window = cli.json("report", "shrinkage", "--from", "2000-01-01", "--to", "2000-02-01")
    assert window["skus"] == [] and window["from"] == "2000-01-01T00:00:00.000Z"
    code, _, err = cli("report", "shrinkage", "--from", "2000-02-01", "--to", "2000-01-01")
    assert (code, err.strip()) == (1, "stockwire report shrinkage: bad period: "
                                      "from 2000-02-01T00:00:00.000Z is after to "
                                      "2000-01-01T00:00:00.000Z")  # fmt: skip


EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]


@pytest.mark.parametrize("edge", EDGE_TIMES)
def test_a_time_at_the_edge_of_the_calendar_is_refused_as_out_of_range_not_a_crash(
    api: Api, cli: Cli, edge: str
) -> None:
    api.seed()
    body = {"kind": "receive", "sku": "PHC-01", "qty": 1, "loc": "WH1-A-01", "at": edge}
    for method, path, kwargs in [
        ("POST", "/v1/movements", {"json": body}),
        ("GET", "/v1/movements", {"params": {"since": edge}}),
        ("GET", "/v1/movements", {"params": {"until": edge}}),
        ("GET", "/v1/valuation", {"params": {"as_of": edge}}),
        ("GET", "/v1/reports/shrinkage", {"params": {"from": edge}}),
    ]:
        response = api.client.request(method, path, headers=ADMIN, **kwargs)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["reason"] in ("out of range", "bad as_of"), response.text
    code, _, err = cli("ledger", "move", "receive", "--sku", "PHC-01", "--qty", "1",
                       "--loc", "WH1-A-01", "--at", edge)  # fmt: skip
    assert (code, "out of range" in err) == (1, True), err
    code, _, err = cli("report", "shrinkage", "--from", edge)
    assert (code, "out of range" in err) == (1, True), err
    assert api.on_hand("PHC-01") == 0
