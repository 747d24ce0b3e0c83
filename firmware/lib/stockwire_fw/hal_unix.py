"""The scanner's hardware on the MicroPython unix port, for tests and the demo.

Owns: the feed (a FIFO standing in for the scan engine's UART: the feeder writes each
barcode's raw bytes followed by CR; one frame = one trigger pull + read), run through the same
framing.py as the UART; and the worker's feedback as lines on stdout, flushed, one per event:
  READY <dev> boot=<n> seq=<last> outbox=<depth>
  BEEP taken|good|bad|label      LED on|off
  LABEL mode=<m> loc=<l> ref=<r> qty=<q>
  TAKEN <seq>                    STORED <first>-<last>     (one line per range)
  BOOKED <seq>                   REFUSED <seq> <reason>    (one line per seq)
  LOCAL-ERROR <reason>           CONNECTED                 OFFLINE <reason>
  TIMEOUT <seq> <ms>             (a publish that gave up after <ms>)
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

from .framing import Framer


def say(line):
    sys.stdout.write(line + "\n")
    try:
        sys.stdout.flush()
    except AttributeError:
        pass


class UnixHal:
    def __init__(self, feed, bat_mv=3900, rssi=-50):
        self.feed = feed
        self._framer = Framer()
        self._frames = []
        self._f = self._s = self._p = None  # set together by _open, or all None
        self._bat = bat_mv
        self._rssi = rssi
        self._led = None
        self._buf = bytearray(64)
        self._one = bytearray(1)

    def _open(self):
        f = open(self.feed, "r+b")
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

    async def network_up(self):
        return True

    def now_ms(self):
        return int(time.time() * 1000)

    def battery_mv(self):
        return self._bat

    def rssi(self):
        return self._rssi

    def signal(self, kind, *args):
        if kind == "taken":
            say("BEEP taken")
            say("TAKEN %d" % args[0])
        elif kind == "stored":
            for first, last in args[0]:
                say("STORED %d-%d" % (first, last))
        elif kind in ("booked", "refused"):
            say("BEEP good" if kind == "booked" else "BEEP bad")
            for first, last in args[0]:
                for s in range(first, last + 1):
                    if kind == "booked":
                        say("BOOKED %d" % s)
                    else:
                        say("REFUSED %d %s" % (s, args[1] or "refused"))
        elif kind == "error":
            say("BEEP bad")
            say("LOCAL-ERROR %s" % args[0])
        elif kind == "label":
            lb = args[0]
            say("BEEP label")
            say("LABEL mode=%s loc=%s ref=%s qty=%d" % (lb.mode, lb.loc, lb.ref, lb.qty))
        elif kind in ("connected", "offline"):
            on = kind == "connected"
            if on != self._led:
                self._led = on
                say("LED on" if on else "LED off")
            say("CONNECTED" if on else "OFFLINE %s" % args[0])
        elif kind == "timeout":
            say("TIMEOUT %d %d" % args)
        elif kind == "ready":
            ob = args[0].outbox
            say(
                "READY %s boot=%d seq=%d outbox=%d"
                % (args[0].dev, ob.boot, ob.next - 1, ob.ring.live)
            )
        else:
            say("%s %r" % (kind.upper(), args))
