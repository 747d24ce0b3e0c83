"""The receiving dock's fixed reader: key events from evdev (or a replay file/FIFO) to scans.

Owns the two sources and the reader task. The evdev source resolves the reader's
/dev/input/by-id name at every open and grabs the device; a replay source reads raw
`input_event` records from a file (once) or a FIFO (reopened for each writer). Either raises
OSError when the reader is gone (ENODEV when unplugged, ENOENT while absent): the task then
waits with backoff and reopens it, logging the loss once, and keeps `connected`, the device
path and the last read time for the status page. The task decodes keys to barcodes, runs them
through the label grammar with the dock's own state and queues items for the buffer as scans
of the dock device (seq given at commit); garbled, overrun and cut-off reads are queued as
dead letters refused to the dock. `committed` is the committer's hook: it turns the acks of
a commit into the dock's feedback (taken / refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import stat
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from gateway import labels
from gateway.config import DockConfig
from gateway.dock import EVENT, Barcode, KeyDecoder, KeyEvent, unpack_events
from gateway.dock_feedback import LogFeedback, open_feedback
from gateway.handoff import Handoff
from gateway.model import Acks, Backoff, DockRead, Incoming, Rejected, now_ms
from stockwire.wire import ScanEvent

log = logging.getLogger(__name__)

BY_ID = "/dev/input/by-id"


@dataclass(frozen=True, slots=True)
class Opened:
    """A source's first item after each successful open: where the reader was found."""

    path: str


Chunk = Opened | list[KeyEvent]  # list: the events of one read() call


def resolve(name: str, by_id: str = BY_ID) -> str:
    """A reader's path: a by-id name (`usb-Honeywell_...-event-kbd`) under `by_id`, or a path."""
    return name if "/" in name else os.path.join(by_id, name)


class ReplaySource:
    """Raw 24-byte `input_event` records from a regular file (read once) or a FIFO (forever,
    reopened for each writer). A path that is gone when it is (re)opened raises OSError, as
    an unplugged reader does."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._queue: asyncio.Queue[Chunk | BaseException | None] = asyncio.Queue(maxsize=64)
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _is_fifo(self) -> bool:
        try:
            return stat.S_ISFIFO(os.stat(self.path).st_mode)
        except FileNotFoundError:
            return False

    def _put(self, item: Chunk | BaseException | None) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._queue.put(item), self._loop).result()

    def _read(self) -> None:  # runs in its own daemon thread
        end: BaseException | None = None
        try:
            fifo = self._is_fifo()
            while not self._stop.is_set():
                if fifo and not self._is_fifo():
                    raise OSError(errno.ENODEV, "replay FIFO is gone", self.path)
                with open(self.path, "rb", buffering=0) as fh:  # a FIFO blocks for a writer
                    self._put(Opened(self.path))
                    pending = b""
                    while not self._stop.is_set():
                        chunk = fh.read(EVENT.size * 256)
                        if not chunk:
                            break  # EOF: the file ended or the FIFO's writer closed
                        pending += chunk
                        whole = len(pending) - len(pending) % EVENT.size
                        events, pending = unpack_events(pending[:whole]), pending[whole:]
                        if events:
                            self._put(events)
                if not fifo:
                    break
        except Exception as exc:
            end = exc
        finally:
            done = self._queue.put(end)
            try:
                asyncio.run_coroutine_threadsafe(done, self._loop)  # type: ignore[arg-type]
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                done.close()

    async def reads(self) -> AsyncIterator[Chunk]:
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._read, name="dock-replay", daemon=True).start()
        try:
            while (item := await self._queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
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
    """A real reader: its by-id name resolved now, opened and grabbed (so its keys do not
    reach a console); yields each read() as one chunk. `open_device` is evdev.InputDevice."""

    def __init__(
        self, name: str, by_id: str = BY_ID, open_device: Callable[[str], Any] | None = None
    ) -> None:
        self.name = name
        self.by_id = by_id
        self._open = open_device

    async def reads(self) -> AsyncIterator[Chunk]:
        if self._open is None:
            import evdev

            self._open = evdev.InputDevice
        path = resolve(self.name, self.by_id)
        device: Any = self._open(path)
        try:
            device.grab()
            yield Opened(os.path.realpath(path))
            while True:
                batch = await device.async_read()
                try:
                    events = [(ev.type, ev.code, ev.value) for ev in batch]
                except BlockingIOError:  # woken with nothing to read
                    continue
                yield events  # an unplugged reader raises OSError(ENODEV) above
        finally:
            with contextlib.suppress(OSError):
                device.ungrab()
            device.close()


class DockReader:
    def __init__(
        self,
        config: DockConfig,
        site: str,
        inbox: Handoff[Incoming],
        feedback: LogFeedback | None = None,
    ) -> None:
        self._config = config
        self._inbox = inbox
        self._topic = f"dock/{site}/{config.device}"
        self.device = config.device
        self.decoder = KeyDecoder(config.layout, config.gs_key)
        self.feedback = feedback if feedback is not None else open_feedback(config)
        self.state = labels.LabelState(mode=config.mode, loc=config.loc, ref=config.ref)
        self.items = 0
        self.errors = 0
        self.connected = False
        self.path = ""  # the device (or replay file) last opened
        self.since_ms = 0  # when `connected` last changed
        self.last_read_ms = 0  # when the last chunk of events arrived
        self.reads = 0  # read() chunks
        self.problem = ""  # why the reader is not connected
        self.make_source: Callable[[], ReplaySource | EvdevSource] = self.source

    def source(self) -> ReplaySource | EvdevSource:
        if self._config.replay:
            return ReplaySource(self._config.replay)
        return EvdevSource(self._config.evdev_path)

    def reader_status(self) -> dict[str, Any]:
        """The reader's state for the status page."""
        return {
            "device": self.device, "source": self._config.evdev_path or self._config.replay,
            "path": self.path, "connected": self.connected, "since_ms": self.since_ms,
            "last_read_ms": self.last_read_ms, "reads": self.reads, "problem": self.problem,
            "overruns": self.decoder.overruns, "items": self.items, "errors": self.errors,
            "layout": self._config.layout, "gs_key": self._config.gs_key,
        }  # fmt: skip

    async def run(self) -> None:
        """Read until the source ends (a replay file), reopening a reader that went away."""
        backoff = Backoff(self._config.reopen_min_s, self._config.reopen_max_s)
        try:
            while True:
                try:
                    async for chunk in self.make_source().reads():
                        if isinstance(chunk, Opened):
                            self._opened(chunk.path)
                            backoff.reset()
                            continue
                        self.reads += 1
                        self.last_read_ms = now_ms()
                        for type_, code, value in chunk:
                            barcode = self.decoder.feed(type_, code, value)
                            if barcode is not None:
                                await self.barcode(barcode)
                    return
                except OSError as exc:
                    await self._lost(exc)
                await asyncio.sleep(backoff.next())
        finally:
            self.connected = False
            self.feedback.close()

    def _opened(self, path: str) -> None:
        if not self.connected:
            log.info("dock %s: reader connected at %s", self.device, path)
            self.connected, self.since_ms, self.problem = True, now_ms(), ""
        self.path = path

    async def _lost(self, exc: OSError) -> None:
        cut = self.decoder.interrupt()
        if cut is not None:
            await self._refuse(cut.text, "reader disconnected", "the read was cut off")
        problem = f"{exc.strerror or exc} ({exc.filename or self._config.evdev_path})"
        if self.connected or not self.since_ms:  # the first failure after being up: log once
            log.warning("dock %s: reader lost: %s; reopening with backoff", self.device, problem)
            self.connected, self.since_ms = False, now_ms()
        self.problem = problem

    async def barcode(self, barcode: Barcode) -> None:
        """One decoded read: refused when it is damaged, else through the label state."""
        if barcode.overrun:
            detail = "SYN_DROPPED: input events were lost inside this read"
            await self._refuse(barcode.text, "reader overrun", detail)
        elif barcode.garbled:
            await self._refuse(barcode.text, "garbled read", f"{barcode.unknown_keys} unknown keys")
        else:
            await self.read(barcode.text)

    async def _refuse(self, text: str, reason: str, detail: str) -> None:
        """A dead letter refused to the dock (the committer's acks bring the feedback)."""
        self.errors += 1
        raw = text.encode("utf-8", "replace")
        await self._inbox.put_async(
            Rejected(self._topic, raw, reason, detail, now_ms(), dev=self.device)
        )

    async def read(self, text: str) -> None:
        """One decoded barcode through the dock's label state."""
        step = labels.read(self.state, text)
        self.state = step.state
        if step.error:
            self.errors += 1
            self.feedback.signal("refused", f"{text!r}: {step.error}")
            return
        if step.item is None:
            self.feedback.signal("label", str(self.state))
            return
        i = step.item
        event = ScanEvent(
            dev=self.device, seq=1, code=i.code, mode=i.mode, ts=now_ms(),
            sym=i.sym, qty=i.qty, loc=i.loc, ref=i.ref,
        )  # fmt: skip
        self.items += 1
        await self._inbox.put_async(DockRead(event, self._topic, now_ms()))

    def answered(self, acks: Acks) -> None:
        """The forwarder's hook after each ledger answer: a dock read the ledger refused
        (unknown barcode, ...) is signalled refused, a beat after its `taken`."""
        refused = [reason for (dev, reason) in acks.refused if dev == self.device]
        if refused:
            self.feedback.signal("refused", "ledger: " + ", ".join(refused))

    def committed(self, acks: Acks) -> None:
        """The committer's hook after each commit: the dock's reads in it were stored (taken)
        or refused (dead letters)."""
        refused = [reason for (dev, reason) in acks.refused if dev == self.device]
        if refused:
            self.feedback.signal("refused", ", ".join(refused))
        elif acks.ok.get(self.device):
            self.feedback.signal("taken", f"seq {acks.ok[self.device][-1]}")
