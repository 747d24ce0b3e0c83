"""The scanner's hardware on the MicroPython unix port, for tests and the demo.

Owns: the feed (a FIFO standing in for the scan engine's UART: the feeder writes each
barcode's raw bytes followed by CR; one frame = one trigger pull + read), run through the same
framing.py as the UART; and the worker's feedback as lines on stdout, flushed, one per event:
  READY <dev> boot=<n> seq=<last> outbox=<depth>   (CONFIG-ERROR <path>: <why>: main.py)
  CUE <name>                     (first: the cue a board plays for the signal, cues.py;
                                  online/offline only when the status LED would change)
  LABEL mode=<m> loc=<l> ref=<r> qty=<q>
  TAKEN <seq>                    STORED <first>-<last>     (one line per range)
  BOOKED <seq>                   REFUSED <seq> <reason>    (one line per seq)
  LOCAL-ERROR <reason>           CONNECTED                 OFFLINE <reason>
  TIMEOUT <seq> <ms>             (a publish that gave up after <ms>)
  BATTERY <mv> low|ok            (the battery-low flag changed)
  CONFIG <key>,<key>...          (a config/<dev> document changed these keys; t: the clock)
  MENU <text>                    (the menu's line; "MENU " alone: it closed)
  FIRE                           (the trigger started the engine's read)
  NO-READ                        (nothing read within `read_ms` of the last FIRE)
The trigger: config `trigger_feed` names a second FIFO; each line is one gesture, "pull" (a
short pull: events pull, up), "long" (held: pull, long) or "double" (the second pull of a
double pull: double, up; write a "pull" line before it for the first). gesture() returns these
events as trigger.py would make them from the switch's edges; without a trigger_feed it never
returns. Reads still come from the feed alone (FIRE does not make one).
The battery: config `battery_file` names a file holding the divider's millivolts (a test
writes it to drive the battery low); `battery_cal` applies as on the board. The clock follows
a config `t` as an offset to the PC's; feed() (the watchdog) only counts.
The FIFO is opened read-write so opening never blocks and the poller never spins on a closed
writer; if it ever reads EOF or fails it is reopened. Waiting is select/poll via asyncio: no
busy loop. Bytes go through one preallocated buffer (a read(n) on a FIFO would block until n
bytes came, so a byte at a time, while poll says more is ready, up to the end of one read):
nothing allocated per byte, and a burst of reads waits in the FIFO, not in the heap.
"""

import asyncio
import select
import sys
import time

from .battery import mv
from .cues import cue
from .framing import Framer


_LINES = {
    "taken": "TAKEN %d",
    "error": "LOCAL-ERROR %s",
    "connected": "CONNECTED",
    "offline": "OFFLINE %s",
    "timeout": "TIMEOUT %d %d",
    "battery": "BATTERY %d %s",
    "config": "CONFIG %s",
    "menu": "MENU %s",
    "no-read": "NO-READ",
}


def say(line):
    sys.stdout.write(line + "\n")
    try:
        sys.stdout.flush()
    except AttributeError:
        pass


class UnixHal:
    def __init__(self, feed, bat_mv=3900, rssi=-50, cfg=None):
        self.path = feed
        self.cfg = cfg or {}
        self.fed = 0
        self._off = 0  # ms the clock was set ahead of the PC's
        self._framer = Framer()
        self._frames = []
        self._f = self._s = self._p = None  # set together by _open, or all None
        self._bat = bat_mv
        self._rssi = rssi
        self._led = None
        self._buf = bytearray(64)
        self._one = bytearray(1)
        self._tf = None  # the trigger_feed's StreamReader, once opened
        self._gs = []  # trigger events not yet returned

    def _open(self):
        f = open(self.path, "r+b")
        s = asyncio.StreamReader(f)
        p = select.poll()
        p.register(f, select.POLLIN)
        self._close()
        self._f, self._s, self._p = f, s, p

    def _close(self):
        f = self._f
        self._f = self._s = self._p = None
        if f:
            try:
                f.close()
            except OSError:
                pass

    async def read_frame(self):
        frames = self._frames
        while not frames:
            try:
                if self._s is None:
                    self._open()
                await self._pull()
            except OSError:
                self._close()  # reopened by the next call
                self._framer.reset()
                raise
            except BaseException:
                self._framer.reset()  # the partial read is lost, the feed stays open
                raise
        return frames.pop(0)

    async def _pull(self):
        """Wait for the feed, then take every byte that is ready into the framer."""
        f = self._f
        buf = self._buf
        one = self._one
        if not await self._s.readinto(one):  # waits in poll until a byte is there
            self._close()  # EOF: reopen
            return
        buf[0] = one[0]
        n = 1
        while one[0] != 13 and one[0] != 10:  # up to the end of this read: the rest waits
            ready = 0
            for _ in self._p.ipoll(0):
                ready = f.readinto(one)
            if not ready:
                break
            buf[n] = one[0]
            n += 1
            if n == len(buf):
                self._framer.feed(buf, self._frames)
                n = 0
        self._framer.feed(memoryview(buf)[:n], self._frames)

    async def gesture(self):
        gs = self._gs
        while not gs:
            p = self.cfg.get("trigger_feed")
            if not p:
                await asyncio.sleep(3600)
                continue
            if self._tf is None:
                self._tf = asyncio.StreamReader(open(p, "r+b"))
            w = (await self._tf.readline()).strip()
            if w in (b"pull", b"long", b"double"):
                gs.append("double" if w == b"double" else "pull")
                gs.append("long" if w == b"long" else "up")
        return gs.pop(0)

    def fire(self):
        say("FIRE")

    async def network_up(self):
        return True

    def now_ms(self):
        return int(time.time() * 1000) + self._off

    def set_ms(self, ms):
        self._off = ms - int(time.time() * 1000)

    def feed(self):
        self.fed += 1

    def battery_mv(self):
        raw = self._bat
        p = self.cfg.get("battery_file")
        if p:
            try:
                with open(p) as f:
                    raw = int(f.read())
            except (OSError, ValueError):
                pass
        return mv(raw * 1000, 1, self.cfg.get("battery_cal"))

    def rssi(self):
        return self._rssi

    def signal(self, kind, *args):
        c = cue(kind, args)
        if kind == "connected" or kind == "offline":
            on = kind == "connected"
            if on == self._led:
                c = None  # offline again (a retry failed): the LED does not change
            self._led = on
        if c:
            say("CUE " + c)
        if kind == "stored" or kind == "booked" or kind == "refused":
            for first, last in args[0]:
                if kind == "stored":
                    say("STORED %d-%d" % (first, last))
                    continue
                for s in range(first, last + 1):
                    say(
                        "BOOKED %d" % s
                        if kind == "booked"
                        else "REFUSED %d %s" % (s, args[1] or "refused")
                    )
        elif kind == "label":
            lb = args[0]
            say("LABEL mode=%s loc=%s ref=%s qty=%d" % (lb.mode, lb.loc, lb.ref, lb.qty))
        elif kind == "ready":
            ob = args[0].outbox
            say(
                "READY %s boot=%d seq=%d outbox=%d"
                % (args[0].dev, ob.boot, ob.next - 1, ob.ring.live)
            )
        elif kind in _LINES:
            if kind == "battery":
                args = (args[0], "low" if args[1] else "ok")
            elif kind == "config":
                args = (",".join(args[0]),)
            say(_LINES[kind] % args)
        else:  # retry, and any signal without a line of its own
            say("%s %r" % (kind.upper(), args))
