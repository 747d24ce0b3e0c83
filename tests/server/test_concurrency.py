"""Concurrent writers on both backends: stock never goes below zero, nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from server.app import open_database
from server.catalog.service import GtinIn, SkuIn, upsert
from server.counts.stocktake import apply
from server.db.engine import Database
from server.ingest.service import process_batch
from server.ledger.check import check
from server.ledger.stock import rows
from server.locations.service import upsert as add_location
from tests.server.support import scan

EAN = "5901234123457"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    with database.write() as conn:
        upsert(conn, SkuIn("PHC-01", "Phone case", gtins=(GtinIn(EAN),)))
        add_location(conn, "WH1-A-01", None)
    yield database
    database.dispose()


def race(db: Database, batches: list[list[dict]]) -> list[str]:
    barrier = threading.Barrier(len(batches))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(events: list[dict]) -> None:
        barrier.wait()
        results = process_batch(db, "gw-1", events)
        with lock:
            outcomes.extend(r.reason or r.status for r in results)

    threads = [threading.Thread(target=worker, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def on_hand(db: Database) -> int:
    with db.read() as conn:
        return sum(r["on_hand"] for r in rows(conn, "PHC-01", include_zero=True))


def test_two_pickers_taking_the_last_unit_never_leave_minus_one(db: Database) -> None:
    with db.write() as conn:
        apply(conn, "OPEN", [("PHC-01", "WH1-A-01", 1)])
    for round_ in range(5):
        outcomes = race(
            db, [[scan(f"hs-{i}-{round_}", 1, EAN, "pick", "WH1-A-01")] for i in (1, 2)]
        )
        assert sorted(outcomes) == (["booked", "insufficient stock"] if round_ == 0 else
                                    ["insufficient stock"] * 2)  # fmt: skip
        assert on_hand(db) == 0
    with db.read() as conn:
        assert check(conn) == []


def test_many_pickers_book_exactly_the_stock_there_is(db: Database) -> None:
    with db.write() as conn:
        apply(conn, "OPEN", [("PHC-01", "WH1-A-01", 20)])
    batches = [[scan(f"hs-{i}", s, EAN, "pick", "WH1-A-01") for s in (1, 2, 3)] for i in range(10)]
    outcomes = race(db, batches)
    assert outcomes.count("booked") == 20
    assert outcomes.count("insufficient stock") == 10
    assert on_hand(db) == 0
    with db.read() as conn:
        assert check(conn) == []


def test_the_same_batch_sent_by_two_gateways_at_once_books_once(db: Database) -> None:
    batch = [scan("hs-1", s, EAN, "receive", "WH1-A-01") for s in range(1, 21)]
    outcomes = race(db, [batch, batch, batch])
    assert outcomes.count("booked") == 20
    assert outcomes.count("duplicate") == 40
    assert on_hand(db) == 20
