"""Malformed scan events and failures while booking one event: a per-event `refused` with a
specific reason, never a 500, and nothing half-written."""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

import server.ingest.service as ingest
import server.quarantine.service as quarantine
from server.ingest.booking import book
from stockwire.wire import ScanEvent
from tests.server.support import ADMIN, GW1, Api, scan

EAN = "5901234123457"


def post_batch(api: Api, events: list[Any]) -> Any:
    """A batch as raw JSON (Python's encoder: big ints, lone surrogates as \\ud800 escapes)."""
    body = json.dumps({"gateway": "gw-1", "events": events})
    headers = GW1 | {"Content-Type": "application/json"}
    return api.client.post("/v1/scan-batches", content=body, headers=headers)


@pytest.mark.parametrize(
    ("extra", "echo_seq", "detail"),
    [
        ({"seq": 10**20}, None, "bad seq"),
        ({"ts": 10**30}, 7, "bad ts"),
        ({"boot": 10**30}, 7, "bad boot"),
        ({"gw_ts": 10**30}, 7, "bad gw_ts"),
        ({"gw_ts": "soon"}, 7, "bad gw_ts"),
        ({"code": "\ud800"}, 7, "bad code"),
        ({"code": "59012\x0034123457"}, 7, "bad code"),
        ({"loc": "WH1-A-01\udfff"}, 7, "bad loc"),
    ],
)
def test_an_event_with_unrepresentable_values_is_refused_as_a_bad_event(
    api: Api, extra: dict[str, Any], echo_seq: int | None, detail: str
) -> None:
    api.seed()
    events = [scan("hs-1", 7, EAN, "receive", "WH1-A-01") | extra,
              scan("hs-1", 8, EAN, "receive", "WH1-A-01")]  # fmt: skip
    response = post_batch(api, events)
    assert response.status_code == 200, response.text
    bad, good = response.json()["results"]
    assert (bad["dev"], bad["seq"], bad["status"], bad["reason"]) == (
        "hs-1", echo_seq, "refused", "bad event")  # fmt: skip
    assert bad["detail"].startswith(detail)
    assert good["status"] == "booked"
    assert api.on_hand("PHC-01") == 1  # the bad one booked nothing
    [kept] = api.get("/v1/quarantine")["entries"]
    assert (kept["reason"], kept["dev"]) == ("bad event", "hs-1")


@pytest.mark.parametrize("extra", [{"qty": 0}, {"qty": 1_000_001}, {"qty": True},
                                   {"ts": -5}, {"seq": 2**53 + 1}, {"dev": ""}])  # fmt: skip
def test_a_malformed_event_is_kept_for_reference_but_never_replayed_into_stock(
    api: Api, extra: dict[str, Any]
) -> None:
    api.seed()
    bad = scan("hs-97", 1, EAN, "receive", "WH1-A-01") | extra
    for _ in range(2):  # sent twice: two entries
        [result] = post_batch(api, [bad]).json()["results"]
        assert (result["status"], result["reason"]) == ("refused", "bad event")
    first, second = api.get("/v1/quarantine")["entries"]
    for entry in (first, second):
        refused = api.client.post(f"/v1/quarantine/{entry['id']}/replay", headers=ADMIN)
        assert refused.status_code == 409, refused.text
        assert refused.json()["reason"] == "not replayable"
    assert api.on_hand("PHC-01") == 0
    fixed = scan("hs-97", 1, EAN, "receive", "WH1-A-01")
    if extra.get("dev") == "":
        fixed["dev"] = "hs-97"
    assert api.batch([fixed])[0]["status"] == "booked"
    assert api.batch([fixed])[0]["status"] == "duplicate"
    assert api.on_hand("PHC-01") == 1


def test_a_malformed_event_whose_dev_cannot_be_echoed_answers_null(api: Api) -> None:
    response = post_batch(api, [{"dev": "\ud800", "seq": "x"}, "not an object"])
    assert response.status_code == 200
    assert [(r["dev"], r["seq"], r["reason"]) for r in response.json()["results"]] == [
        (None, None, "bad event"), (None, None, "bad event")]  # fmt: skip


def test_control_characters_in_a_code_are_kept_raw_and_returned_escaped(api: Api) -> None:
    api.seed()
    code = "5901234123457\x01\x1b[31m\x7f"
    [result] = api.batch([scan("hs-1", 1, code, "receive", "WH1-A-01")])
    assert (result["status"], result["reason"]) == ("refused", "unknown barcode")
    [event] = api.get("/v1/scan-events", dev="hs-1")["events"]
    assert event["code"] == code
    [kept] = api.get("/v1/quarantine")["entries"]
    assert kept["code"] == code
    assert api.get("/v1/barcodes/explain", code=code)["code"] == code


def test_an_unexpected_error_booking_one_event_refuses_it_and_books_the_rest(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api.seed()

    def fragile(conn: Connection, ev: ScanEvent, gateway_ts: int | None = None) -> None:
        book(conn, ev, gateway_ts)  # books, then fails: the event's savepoint undoes it
        if ev.seq == 2:
            raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(ingest, "book", fragile)
    events = [scan("hs-1", seq, EAN, "receive", "WH1-A-01") for seq in (1, 2, 3)]
    with caplog.at_level(logging.ERROR, logger="server.ingest.service"):
        results = api.batch(events)
    assert [(r["status"], r.get("reason")) for r in results] == [
        ("booked", None), ("refused", "cannot book"), ("booked", None)]  # fmt: skip
    assert results[1]["detail"] == "ZeroDivisionError: division by zero"
    assert api.on_hand("PHC-01") == 2  # nothing half-written
    assert any(r.exc_info and "hs-1:2" in r.getMessage() for r in caplog.records)
    assert api.batch(events[1:2])[0] == results[1] | {"status": "duplicate"}
    # kept for replay: a replay that fails the same way keeps it, with no 500
    [kept] = api.get("/v1/quarantine")["entries"]
    assert (kept["reason"], kept["seq"]) == ("cannot book", 2)
    monkeypatch.setattr(quarantine, "book", fragile)
    again = api.post(f"/v1/quarantine/{kept['id']}/replay")
    assert (again["status"], again["reason"], again["attempts"]) == ("open", "cannot book", 2)
    # once the cause is gone the admin books it
    monkeypatch.setattr(quarantine, "book", book)
    assert api.post(f"/v1/quarantine/{kept['id']}/replay")["status"] == "replayed"
    assert api.on_hand("PHC-01") == 3


def test_a_data_error_in_the_database_refuses_the_event_and_is_no_outage(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.seed()

    def overflowing(conn: Connection, ev: ScanEvent, gateway_ts: int | None = None) -> None:
        book(conn, ev, 10**30)  # past the ledger's check: the database refuses the integer

    monkeypatch.setattr(ingest, "book", overflowing)
    events = [scan("hs-1", 1, EAN, "receive", "WH1-A-01")]
    response = post_batch(api, events)
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert (result["status"], result["reason"]) == ("refused", "cannot book")
    assert result["detail"].startswith(("OverflowError: ", "DataError: "))
    assert "\n" not in result["detail"]
    assert api.on_hand("PHC-01") == 0


def test_a_locked_database_is_an_outage_answered_503_for_the_whole_batch(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.seed()

    def locked(conn: Connection, ev: ScanEvent, gateway_ts: int | None = None) -> None:
        raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(ingest, "book", locked)
    events = [scan("hs-1", seq, EAN, "receive", "WH1-A-01") for seq in (1, 2)]
    response = post_batch(api, events)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["reason"] == "unavailable"
    assert api.get("/v1/scan-events")["events"] == []  # nothing recorded: the gateway retries
    assert api.get("/v1/quarantine")["entries"] == []


def test_a_read_whose_units_multiply_past_the_bound_is_refused(api: Api) -> None:
    api.seed()
    api.post("/v1/skus/PHC-01/gtins", {"gtin": "15901234123454", "multiplier": 1_000_000})
    code = "]C101159012341234543799999999"
    [result] = api.batch([scan("hs-1", 1, code, "receive", "WH1-A-01", qty=1_000_000)])
    assert (result["status"], result["reason"]) == ("refused", "bad event")
    zero = api.batch([scan("hs-1", 2, "]C10109506000134352370", "receive", "WH1-A-01")])[0]
    assert (zero["reason"], zero["detail"]) == ("unknown barcode", "bad count in AI 37: 0 units")
    assert api.get("/v1/stock")["stock"] == []
