"""Concurrent writers on both backends: stock never goes below zero, nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection

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


def _seed(conn: Connection) -> None:
    upsert(conn, SkuIn("PHC-01", "Phone case", gtins=(GtinIn(EAN),)))
    add_location(conn, "WH1-A-01", None)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = await open_database(db_url)
    await database.write(_seed)
    yield database
    await database.dispose()


async def race(db: Database, batches: list[list[dict]]) -> list[str]:
    """Every batch posted at once, each on its own connection (the pool has room for all)."""
    done = await asyncio.gather(*(process_batch(db, "gw-1", events) for events in batches))
    return [r.reason or r.status for results in done for r in results]


async def on_hand(db: Database) -> int:
    found = await db.read(rows, "PHC-01", include_zero=True)
    return sum(r["on_hand"] for r in found)


async def test_two_pickers_taking_the_last_unit_never_leave_minus_one(db: Database) -> None:
    await db.write(apply, "OPEN", [("PHC-01", "WH1-A-01", 1)])
    for round_ in range(5):
        outcomes = await race(
            db, [[scan(f"hs-{i}-{round_}", 1, EAN, "pick", "WH1-A-01")] for i in (1, 2)]
        )
        assert sorted(outcomes) == (["booked", "insufficient stock"] if round_ == 0 else
                                    ["insufficient stock"] * 2)  # fmt: skip
        assert await on_hand(db) == 0
    assert await db.read(check) == []


async def test_many_pickers_book_exactly_the_stock_there_is(db: Database) -> None:
    await db.write(apply, "OPEN", [("PHC-01", "WH1-A-01", 20)])
    batches = [[scan(f"hs-{i}", s, EAN, "pick", "WH1-A-01") for s in (1, 2, 3)] for i in range(10)]
    outcomes = await race(db, batches)
    assert outcomes.count("booked") == 20
    assert outcomes.count("insufficient stock") == 10
    assert await on_hand(db) == 0
    assert await db.read(check) == []


async def test_the_same_batch_sent_by_two_gateways_at_once_books_once(db: Database) -> None:
    batch = [scan("hs-1", s, EAN, "receive", "WH1-A-01") for s in range(1, 21)]
    outcomes = await race(db, [batch, batch, batch])
    assert outcomes.count("booked") == 20
    assert outcomes.count("duplicate") == 40
    assert await on_hand(db) == 20
