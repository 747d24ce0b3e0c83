"""The dock reader end to end: raw input_event records through a FIFO, labels, buffer, ledger."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from evdev import ecodes as e

from gateway.dock import encode_text, write_input_events
from tests.gateway.conftest import db_rows, eventually
from tests.gateway.fakeledger import FakeLedger


async def test_dock_replay_from_a_fifo_books_scans_through_labels(
    make_config: Any, gateway_factory: Any, ledger: FakeLedger, tmp_path: Path
) -> None:
    fifo = tmp_path / "dock.fifo"
    os.mkfifo(fifo)
    await gateway_factory(make_config(ledger, dock={"device": "dock-1", "replay": str(fifo)}))
    first = ["SW:MODE:receive", "SW:LOC:DOCK-1", "SW:REF:PO-7", "5901234123457", "SW:QTY:3",
             "]C101095011015300031\x1d10LOT42"]  # fmt: skip
    events = [ev for text in first for ev in encode_text(text)]
    await asyncio.to_thread(write_input_events, str(fifo), events)  # the writer closes: EOF
    garbled = [(e.EV_KEY, e.KEY_F5, 1), (e.EV_KEY, e.KEY_9, 1), (e.EV_KEY, e.KEY_ENTER, 1)]
    second = garbled + encode_text("4006381333931") + encode_text("SW:MODE:steal")
    await asyncio.to_thread(write_input_events, str(fifo), second)  # reopened for a new writer
    await eventually(lambda: len(ledger.booked) == 3, timeout=10)
    got = [(b["dev"], b["seq"], b["mode"], b["loc"], b["ref"], b["qty"], b["code"], b["sym"])
           for b in ledger.booked]  # fmt: skip
    assert got == [
        ("dock-1", 1, "receive", "DOCK-1", "PO-7", 1, "5901234123457", ""),
        ("dock-1", 2, "receive", "DOCK-1", "PO-7", 3, "]C101095011015300031\x1d10LOT42", "]C1"),
        ("dock-1", 3, "receive", "DOCK-1", "PO-7", 1, "4006381333931", ""),
    ]
    db = tmp_path / "gateway.db"
    assert db_rows(db, "SELECT reason, payload FROM dead_letters") == [("garbled read", b"9")]
    assert db_rows(db, "SELECT value FROM counters WHERE name = 'seq:dock-1'") == [(3,)]
