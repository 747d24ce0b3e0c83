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
writer; if it ever reads EOF it reopens. Waiting is select/poll via asyncio: no busy loop.
"""

import asyncio
import select
import sys
import time

from .framing import Framer

_out = sys.stdout


def say(line):
    _out.write(line + "\n")
    try:
        _out.flush()
    except AttributeError:
        pass


class UnixHal:
    def __init__(self, feed, bat_mv=3900, rssi=-50):
        self.feed = feed
        self._framer = Framer()
        self._frames = []
        self._f = None
        self._poll = None
        self._bat = bat_mv
        self._rssi = rssi
        self._led = None
        self._chunk = bytearray(128)
        self._cmv = memoryview(self._chunk)

    def _open(self):
        if self._f:
            self._f.close()
        self._f = open(self.feed, "r+b")
        self._stream = asyncio.StreamReader(self._f)
        self._poll = select.poll()
        self._poll.register(self._f, select.POLLIN)

    async def read_frame(self):
        frames = self._frames
        buf = self._chunk
        mv = self._cmv
        while not frames:
            if self._f is None:
                self._open()
            b = await self._stream.read(1)  # waits in poll until the feed has a byte
            if not b:
                self._open()
                continue
            buf[0] = b[0]
            n = 1
            # drain whatever else is ready without blocking, through one fixed buffer
            while self._poll.poll(0):
                b = self._f.read(1)
                if not b:
                    break
                buf[n] = b[0]
                n += 1
                if n == len(buf):
                    self._framer.feed(mv[:n], frames)
                    n = 0
            self._framer.feed(mv[:n], frames)
        return frames.pop(0)

    async def network_up(self):
        return True

    def now_ms(self):
        return int(time.time() * 1000)

    def battery_mv(self):
        return self._bat

    def rssi(self):
        return self._rssi

    def _led_set(self, on):
        if on != self._led:
            self._led = on
            say("LED on" if on else "LED off")

    def signal(self, kind, *args):
        if kind == "taken":
            say("BEEP taken")
            say("TAKEN %d" % args[0])
        elif kind == "stored":
            for first, last in args[0]:
                say("STORED %d-%d" % (first, last))
        elif kind == "booked":
            say("BEEP good")
            for first, last in args[0]:
                for s in range(first, last + 1):
                    say("BOOKED %d" % s)
        elif kind == "refused":
            say("BEEP bad")
            for first, last in args[0]:
                for s in range(first, last + 1):
                    say("REFUSED %d %s" % (s, args[1] or "refused"))
        elif kind == "error":
            say("BEEP bad")
            say("LOCAL-ERROR %s" % args[0])
        elif kind == "label":
            lb = args[0]
            say("BEEP label")
            say("LABEL mode=%s loc=%s ref=%s qty=%d" % (lb.mode, lb.loc, lb.ref, lb.qty))
        elif kind == "connected":
            self._led_set(True)
            say("CONNECTED")
        elif kind == "offline":
            self._led_set(False)
            say("OFFLINE %s" % args[0])
        elif kind == "timeout":
            say("TIMEOUT %d %d" % (args[0], args[1]))
        elif kind == "ready":
            s = args[0]
            ob = s.outbox
            say("READY %s boot=%d seq=%d outbox=%d" % (s.dev, ob.boot, ob.last_seq, ob.depth))
        else:
            say("%s %s" % (kind.upper(), " ".join(str(a) for a in args)))
