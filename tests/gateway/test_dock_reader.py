"""The dock reader's task: layouts and the GS key through a running gateway, split reads,
SYN_DROPPED refused and signalled, the PO context, unplug and reopen (a replay FIFO that
vanishes; an evdev device behind a by-id symlink), and the feedback pins on gpiozero's
MockFactory."""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evdev import InputEvent
from evdev import ecodes as e
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from gateway.config import DockConfig
from gateway.dock import encode_text, pack_events
from gateway.dock_feedback import LogFeedback
from gateway.dock_reader import DockReader, EvdevSource
from gateway.handoff import Handoff
from gateway.model import DockRead, Incoming, Rejected
from tests.gateway.conftest import db_rows, eventually
from tests.gateway.fakeledger import FakeLedger

BUZZER, OK, ERR = 18, 23, 24
FAST = {"reopen_min_s": 0.02, "reopen_max_s": 0.1}


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    """gpiozero's own test double as the default pin factory (what the gateway's GPIO uses)."""
    previous, Device.pin_factory = Device.pin_factory, MockFactory()
    factory = Device.pin_factory
    yield factory
    factory.close()
    Device.pin_factory = previous


def typed(texts: list[str], **kw: Any) -> list[tuple[int, int, int]]:
    return [ev for text in texts for ev in encode_text(text, **kw)]


async def open_writer(fifo: Path) -> Any:
    return await asyncio.to_thread(open, fifo, "wb", buffering=0)


async def test_a_german_reader_with_f8_for_gs_books_against_the_po_it_last_read(
    mock_pins: Any, make_config: Any, gateway_factory: Any, ledger: FakeLedger, tmp_path: Path
) -> None:
    fifo = tmp_path / "dock.fifo"
    os.mkfifo(fifo)
    dock = {"device": "dock-1", "replay": str(fifo), "layout": "de", "gs_key": "KEY_F8",
            "buzzer_pin": BUZZER, "led_ok_pin": OK, "led_err_pin": ERR, **FAST}  # fmt: skip
    gw = (await gateway_factory(make_config(ledger, dock=dock))).gw
    writer = await open_writer(fifo)
    gs1 = "]C101095011015300031\x1d10LOT/Zy-42"
    reads = ["SW:MODE:receive", "SW:LOC:DOCK-1", "SW:REF:PO-7", "4006381333931", "SW:REF:PO-8"]
    writer.write(pack_events(typed(reads, layout_name="de", gs_key="KEY_F8")))
    await eventually(lambda: gw.dock.state.ref == "PO-8")
    data = pack_events(encode_text(gs1, layout_name="de", gs_key="KEY_F8"))
    cuts = [0, 1000 + 13, 2000 - 7, len(data)]  # cut inside records, each under one read()
    for start, end in itertools.pairwise(cuts):
        before = gw.dock.reads
        writer.write(data[start:end])  # the gateway reads each piece in a read() of its own
        await eventually(lambda before=before: gw.dock.reads > before)
    await eventually(lambda: len(ledger.booked) == 2)
    assert [(b["code"], b["ref"], b["mode"], b["loc"]) for b in ledger.booked] == [
        ("4006381333931", "PO-7", "receive", "DOCK-1"),
        (gs1, "PO-8", "receive", "DOCK-1"),
    ]
    assert "taken" in gw.dock.feedback.given
    assert [s.state for s in mock_pins.pin(OK).states][:2] == [False, True]
    assert mock_pins.pin(ERR).state is False

    overrun = [*encode_text("123", enter=False), (e.EV_SYN, e.SYN_DROPPED, 0),
               *encode_text("45")]  # fmt: skip
    writer.write(pack_events(overrun))
    db = tmp_path / "gateway.db"
    dead = "SELECT reason, payload FROM dead_letters"
    await eventually(lambda: db_rows(db, dead) == [("reader overrun", b"1235")])
    await eventually(lambda: gw.dock.feedback.given[-1] == "refused")
    assert True in [s.state for s in mock_pins.pin(ERR).states]
    assert gw.dock.reader_status()["overruns"] == 1
    assert len(ledger.booked) == 2  # the damaged read was never booked

    ledger.refuse["4006381333932"] = "check digit"  # taken at the dock, refused by the ledger
    given = len(gw.dock.feedback.given)
    writer.write(pack_events(typed(["4006381333932"], layout_name="de", gs_key="KEY_F8")))
    await eventually(lambda: list(gw.dock.feedback.given)[given:] == ["taken", "refused"])
    writer.close()


async def test_a_replay_fifo_that_vanishes_is_reopened_when_it_comes_back(
    make_config: Any,
    gateway_factory: Any,
    ledger: FakeLedger,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fifo = tmp_path / "dock.fifo"
    os.mkfifo(fifo)
    dock = {"device": "dock-1", "replay": str(fifo), **FAST}
    gw = (await gateway_factory(make_config(ledger, dock=dock))).gw
    writer = await open_writer(fifo)
    await eventually(lambda: gw.dock.connected)
    writer.write(pack_events(typed(["SW:MODE:receive", "SW:LOC:DOCK-1", "111"])))
    writer.write(pack_events(encode_text("99", enter=False)))  # unplugged mid-read
    await eventually(lambda: len(ledger.booked) == 1)
    with caplog.at_level(logging.WARNING, "gateway.dock_reader"):
        fifo.unlink()
        writer.close()  # EOF; the reopen finds the path gone: ENODEV, as an unplugged reader
        await eventually(lambda: not gw.dock.connected)
        assert "gone" in gw.dock.reader_status()["problem"]
        await asyncio.sleep(0.5)  # several reopen attempts with backoff
    assert sum("reader lost" in r.getMessage() for r in caplog.records) == 1
    db = tmp_path / "gateway.db"
    dead = "SELECT reason, payload FROM dead_letters"
    assert db_rows(db, dead) == [("reader disconnected", b"99")]

    os.mkfifo(fifo)
    writer = await open_writer(fifo)
    writer.write(pack_events(encode_text("222")))  # the label state survived the unplug
    writer.close()
    await eventually(lambda: len(ledger.booked) == 2)
    assert gw.dock.connected and ledger.booked[1]["code"] == "222"
    assert ledger.booked[1]["loc"] == "DOCK-1"


class FakeInputDevice:
    """evdev.InputDevice's seam: opens only what exists, is grabbed, gives scripted read()
    chunks of evdev.InputEvent, then raises ENODEV when the test unplugs it."""

    def __init__(self, path: str, script: list[list[InputEvent]], unplug: asyncio.Event) -> None:
        os.stat(path)  # a by-id link that is gone (or dangling) raises FileNotFoundError
        self.path, self._script, self._unplug = path, list(script), unplug
        self.grabbed = self.closed = False

    def grab(self) -> None:
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    async def async_read(self) -> list[InputEvent]:
        if self._script:
            await asyncio.sleep(0)
            return self._script.pop(0)
        await self._unplug.wait()
        raise OSError(errno.ENODEV, "No such device")

    def close(self) -> None:
        self.closed = True


def events(text: str) -> list[InputEvent]:
    return [InputEvent(1, 0, *ev) for ev in encode_text(text)]


async def take_reads(inbox: Handoff[Incoming], n: int) -> list[Incoming]:
    got: list[Incoming] = []
    while len(got) < n:
        items = await asyncio.wait_for(inbox.take(10, 0), 5)
        inbox.release(len(items))
        got += items
    return got


async def test_an_unplugged_evdev_reader_is_found_again_by_its_by_id_name(
    tmp_path: Path,
) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (tmp_path / "event7").touch()
    (tmp_path / "event9").touch()
    name = "usb-Honeywell_Imaging_1900-event-kbd"
    (by_id / name).symlink_to(tmp_path / "event7")
    labels = events("SW:MODE:receive") + events("SW:LOC:DOCK-1")
    item = events("4006381333931")
    unplug = [asyncio.Event(), asyncio.Event()]
    scripts = [[labels, item[:9], item[9:]], [events("5901234123457")]]
    opened: list[FakeInputDevice] = []

    def open_device(path: str) -> FakeInputDevice:
        n = len(opened)
        device = FakeInputDevice(path, scripts[n], unplug[n])
        opened.append(device)
        return device

    config = DockConfig(evdev_path=name, **FAST)
    inbox: Handoff[Incoming] = Handoff(asyncio.get_running_loop(), 100)
    reader = DockReader(config, "site1", inbox, feedback=LogFeedback("dock-1"))
    reader.make_source = lambda: EvdevSource(name, by_id=str(by_id), open_device=open_device)
    task = asyncio.create_task(reader.run())
    try:
        (first,) = await take_reads(inbox, 1)  # the item arrived over two read() chunks
        assert isinstance(first, DockRead) and first.event.code == "4006381333931"
        assert reader.connected and reader.path == str(tmp_path / "event7")
        assert opened[0].grabbed and reader.reads == 3

        (by_id / name).unlink()
        unplug[0].set()
        await eventually(lambda: not reader.connected)
        assert opened[0].closed and len(opened) == 1  # no device while the link is gone
        (by_id / name).symlink_to(tmp_path / "event9")  # back, under another event node
        (second,) = await take_reads(inbox, 1)
        assert isinstance(second, DockRead) and second.event.code == "5901234123457"
        assert reader.connected and reader.path == str(tmp_path / "event9")
        assert not any(isinstance(i, Rejected) for i in (first, second))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
