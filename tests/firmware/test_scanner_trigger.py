"""The trigger's gestures on the real firmware (unix port): double pull repeats the last item,
the long-press menu sets the mode, reads while the menu is open are refused. Gestures go in
through the `trigger_feed` FIFO (hal_unix), reads through the feed, as in test_scanner.py."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator

import pytest

from stockwire.wire import decode_scan

from .scanner import Scanner


class Trigger:
    """The `trigger_feed` FIFO of a scanner: one line per gesture (hal_unix's docstring)."""

    def __init__(self, s: Scanner) -> None:
        path = s.dir / "hs-01.trigger"
        if not path.exists():
            os.mkfifo(path)
        s.cfg["trigger_feed"] = str(path)
        (s.dir / "scanner.json").write_text(json.dumps(s.cfg))
        self.path = path
        self.fd: int | None = None

    def __call__(self, *gestures: str) -> None:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_WRONLY)
        for g in gestures:
            os.write(self.fd, g.encode() + b"\n")


@pytest.fixture
def scanner(make_scanner) -> Iterator[Callable[..., tuple[Scanner, Trigger]]]:
    """A started, connected scanner with a trigger feed: (scanner, pull)."""
    made: list[Trigger] = []

    def make(**extra: object) -> tuple[Scanner, Trigger]:
        s = make_scanner(**extra)
        t = Trigger(s)
        made.append(t)
        s.start()
        s.expect("CONNECTED")
        return s, t

    yield make
    for t in made:
        if t.fd is not None:
            os.close(t.fd)


def _labels(s, *reads: str) -> None:
    s.read(*reads)
    for _ in reads:
        s.expect("LABEL")


def test_double_pull_books_the_last_item_again_with_the_context_of_now(scanner, gateway) -> None:
    s, pull = scanner()
    pull("double")
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR nothing to repeat"
    _labels(s, "SW:MODE:receive", "SW:LOC:WH1-A-01", "SW:REF:PO-1001")
    pull("pull")
    s.expect("FIRE")
    s.read(b"]C10109501101530003\x1d10LOT42")
    assert s.expect("TAKEN") == "TAKEN 1"
    assert decode_scan(gateway.next_scan()[1]).seq == 1
    _labels(s, "SW:LOC:WH1-B-02", "SW:QTY:10")
    pull("pull", "double")  # the first pull reads nothing (pointed away)
    assert s.expect("CUE") == "CUE taken"
    assert s.expect("TAKEN") == "TAKEN 2"
    ev = decode_scan(gateway.next_scan()[1])
    assert (ev.seq, ev.code, ev.sym, ev.mode, ev.loc, ev.ref, ev.qty) == (
        2,
        "]C10109501101530003\x1d10LOT42",
        "]C1",
        "receive",
        "WH1-B-02",
        "PO-1001",
        10,
    )
    pull("double")
    assert s.expect("TAKEN") == "TAKEN 3"
    assert decode_scan(gateway.next_scan()[1]).qty == 1  # the one-shot quantity was used
    assert [x for x in s.log if x == "FIRE"] == ["FIRE", "FIRE"]  # never for a double's 2nd
    s.read(b"9" * 200)
    s.expect("TAKEN 4")
    pull("double")
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR code too long to repeat"


def test_the_menu_sets_the_mode_and_the_next_scan_carries_it(scanner, gateway) -> None:
    s, pull = scanner()
    _labels(s, "SW:MODE:receive", "SW:LOC:WH1-A-01", "SW:REF:PO-1001")
    pull("long")
    assert s.expect("CUE") == "CUE menu"
    assert s.expect("MENU") == "MENU mode: receive"
    pull("pull")
    assert s.expect("MENU") == "MENU mode: pick"
    pull("long")
    assert s.expect("MENU") == "MENU "
    assert s.expect("LABEL") == "LABEL mode=pick loc=WH1-A-01 ref= qty=1"
    assert [x for x in s.log if x == "FIRE"] == ["FIRE"]  # the engine only for the 1st press
    s.read("5901234123457")
    s.expect("TAKEN 1")
    ev = decode_scan(gateway.next_scan()[1])
    assert (ev.mode, ev.loc, ev.ref) == ("pick", "WH1-A-01", "")


def test_a_read_while_the_menu_is_open_is_refused_and_the_menu_times_out(scanner, gateway) -> None:
    s, pull = scanner(menu_s=1)
    _labels(s, "SW:MODE:count", "SW:LOC:WH1-A-01")
    pull("long")
    assert s.expect("MENU") == "MENU mode: count"
    s.read("5901234123457")  # a leftover read of the long press's engine trigger
    assert s.expect("CUE") == "CUE refused"
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR menu open"
    pull("pull")
    assert s.expect("MENU") == "MENU mode: transfer-out"
    assert s.expect("MENU", timeout=3) == "MENU "  # a second without a gesture: closed
    s.read("5901234123457")
    s.expect("TAKEN 1")
    assert decode_scan(gateway.next_scan()[1]).mode == "count"  # unchanged
    assert not [x for x in s.log if x.startswith("LABEL mode=transfer")]


def test_outcomes_have_their_own_cues(scanner, gateway) -> None:
    s, _ = scanner()
    s.read(b"x" * 1100)
    assert s.expect("CUE") == "CUE bad-read"
    s.read(b"\xff\xfe")
    assert s.expect("CUE") == "CUE bad-read"
    s.read("5901234123457")
    assert s.expect("CUE") == "CUE refused"
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR scan a mode label first"
    _labels(s, "SW:MODE:receive", "SW:LOC:WH1-A-01")
    s.read("5901234123457")
    s.expect("TAKEN 1")
    gateway.next_scan()
    gateway.ack("hs-01", [1], "booked")
    assert s.expect("CUE") == "CUE booked"


def test_a_pull_that_reads_nothing_is_felt_as_no_read_and_a_late_read_still_counts(
    scanner, gateway
) -> None:
    s, pull = scanner(read_ms=1500)
    _labels(s, "SW:MODE:receive", "SW:LOC:WH1-A-01")
    pull("pull")
    s.expect("FIRE")
    assert s.expect("CUE") == "CUE no-read"  # a buzz, no tone: the item was not scanned
    s.expect("NO-READ")
    s.read("5901234123457")  # the engine read it after all: it counts
    assert s.expect("TAKEN") == "TAKEN 1"
    pull("pull")  # a pull during the window starts it again
    time.sleep(1.0)
    pull("pull")
    time.sleep(1.0)  # past the first pull's window, within the second's
    s.read("5901234123457")
    assert s.expect("TAKEN") == "TAKEN 2"
    pull("long")  # the long press fires the engine too: its window is not a scan's
    assert s.expect("MENU") == "MENU mode: receive"
    time.sleep(2.0)
    pull("long")
    assert s.expect("MENU") == "MENU "
    assert [x for x in s.log if x == "NO-READ"] == ["NO-READ"]
    assert [x for x in s.log if x == "FIRE"] == ["FIRE"] * 4
