"""Helpers shared by the MicroPython tests: a scratch directory and a fake MQTT stream."""

import asyncio
import os

ROOT = __file__.rsplit("/", 1)[0] + "/../../.."


def scratch(name):
    """An empty directory under /tmp for one test."""
    base = "/tmp/swfw-mp-%d" % os.getpid() if hasattr(os, "getpid") else "/tmp/swfw-mp"
    for d in (base, base + "/" + name):
        try:
            os.mkdir(d)
        except OSError:
            pass
    d = base + "/" + name
    for n in os.listdir(d):
        os.remove(d + "/" + n)
    return d


class FakeStream:
    """Reader and writer in one, like asyncio's Stream: `sent` collects what the client wrote;
    `give(bytes)` makes bytes readable. `silent` never answers (a stopped broker)."""

    def __init__(self):
        self.sent = bytearray()
        self._in = bytearray()
        self._ev = asyncio.Event()
        self.closed = False
        self.on_write = None

    def give(self, data):
        self._in.extend(data)
        self._ev.set()

    async def readexactly(self, n):
        while len(self._in) < n:
            if self.closed:
                raise EOFError()
            self._ev.clear()
            await self._ev.wait()
        out = bytes(self._in[:n])
        self._in = self._in[n:]
        return out

    def write(self, data):
        self.sent.extend(data)
        if self.on_write:
            self.on_write(self, bytes(data))

    async def drain(self):
        await asyncio.sleep_ms(0)

    async def wait_closed(self):
        self.closed = True
        self._ev.set()


def opener_for(stream):
    async def opener(host, port):
        return stream, stream

    return opener
