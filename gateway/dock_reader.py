"""The receiving dock's fixed reader: key events from evdev (or a replay file/FIFO) to scans.

Owns the two sources (a grabbed evdev.InputDevice; a reader thread over raw `input_event`
records that reopens a FIFO when its writer closes, blocking rather than spinning) and the
reader task: decode keys to barcodes, run them through the label grammar with the dock's own
state, and queue items for the buffer as scans of the dock device (seq given at commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import threading
from collections.abc import AsyncIterator

from gateway import labels
from gateway.config import DockConfig
from gateway.dock import EVENT, KeyDecoder, KeyEvent, unpack_events
from gateway.handoff import Handoff
from gateway.model import DockRead, Incoming, Rejected, now_ms
from stockwire.wire import ScanEvent

log = logging.getLogger(__name__)


class ReplaySource:
    """Raw 24-byte `input_event` records from a regular file (read once) or a FIFO (forever)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._queue: asyncio.Queue[list[KeyEvent] | None] = asyncio.Queue(maxsize=64)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _is_fifo(self) -> bool:
        try:
            return stat.S_ISFIFO(os.stat(self.path).st_mode)
        except FileNotFoundError:
            return False

    def _read(self) -> None:  # runs in its own daemon thread
        assert self._loop is not None
        fifo = self._is_fifo()
        try:
            while not self._stop.is_set():
                with open(self.path, "rb", buffering=0) as fh:  # a FIFO blocks for a writer
                    pending = b""
                    while not self._stop.is_set():
                        chunk = fh.read(EVENT.size * 256)
                        if not chunk:
                            break  # EOF: the file ended or the FIFO's writer closed
                        pending += chunk
                        whole = len(pending) - len(pending) % EVENT.size
                        events, pending = unpack_events(pending[:whole]), pending[whole:]
                        if events:
                            fut = asyncio.run_coroutine_threadsafe(
                                self._queue.put(events), self._loop
                            )
                            fut.result()
                if not fifo:
                    break
        except Exception:
            log.exception("dock replay source %s failed", self.path)
        finally:
            done = self._queue.put(None)
            try:
                asyncio.run_coroutine_threadsafe(done, self._loop)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                done.close()

    async def events(self) -> AsyncIterator[KeyEvent]:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._read, name="dock-replay", daemon=True)
        self._thread.start()
        try:
            while (batch := await self._queue.get()) is not None:
                for event in batch:
                    yield event
        finally:
            self.close()

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._is_fifo():  # wake a reader blocked in open() waiting for a writer
            with contextlib.suppress(OSError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))


class EvdevSource:
    """A real reader: /dev/input/event*, grabbed so its keys do not reach the console."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def events(self) -> AsyncIterator[KeyEvent]:
        import evdev

        device = evdev.InputDevice(self.path)
        device.grab()
        try:
            async for ev in device.async_read_loop():
                yield (ev.type, ev.code, ev.value)
        finally:
            with contextlib.suppress(OSError):
                device.ungrab()
            device.close()


class DockReader:
    def __init__(self, config: DockConfig, site: str, inbox: Handoff[Incoming]) -> None:
        self._config = config
        self._inbox = inbox
        self._topic = f"dock/{site}/{config.device}"
        self.decoder = KeyDecoder()
        self.state = labels.LabelState(mode=config.mode, loc=config.loc, ref=config.ref)
        self.items = 0
        self.errors = 0

    def source(self) -> ReplaySource | EvdevSource:
        if self._config.replay:
            return ReplaySource(self._config.replay)
        return EvdevSource(self._config.evdev_path)

    async def run(self) -> None:
        async for type_, code, value in self.source().events():
            barcode = self.decoder.feed(type_, code, value)
            if barcode is None:
                continue
            if barcode.garbled:
                self.errors += 1
                raw = barcode.text.encode("utf-8", "replace")
                detail = f"{barcode.unknown_keys} unknown keys"
                await self._inbox.put_async(
                    Rejected(self._topic, raw, "garbled read", detail, now_ms())
                )
                continue
            await self.read(barcode.text)

    async def read(self, text: str) -> None:
        """One decoded barcode through the dock's label state."""
        step = labels.read(self.state, text)
        self.state = step.state
        if step.error:
            self.errors += 1
            log.warning("dock %s: %r refused: %s", self._config.device, text, step.error)
            return
        if step.item is None:
            log.info("dock %s: %s", self._config.device, self.state)
            return
        i = step.item
        event = ScanEvent(
            dev=self._config.device, seq=1, code=i.code, mode=i.mode, ts=now_ms(),
            sym=i.sym, qty=i.qty, loc=i.loc, ref=i.ref,
        )  # fmt: skip
        self.items += 1
        await self._inbox.put_async(DockRead(event, self._topic, now_ms()))
