"""The scanner's flash outbox: every taken scan, kept until the gateway's ack removes it.

Owns the on-flash log and its power-loss rules, and the durable counters (boot count, seq
high-water mark); the RAM index is ring.py. Nothing of a scan stays in RAM but its ring slot.
"""

# Log: append-only records `len:u16 | crc32:u32 | body`, CRC over the body. A record running
# past the end of the file or failing its CRC ends the log: a torn last record is ignored, and
# the file is rewritten without it before anything is appended.
# Bodies: H header (format, seq mark), S scan (the fields, ~60 bytes, not the JSON), D done
# (acked seq ranges). An ack appends a D record; nothing is rewritten in place. Compaction
# copies the live records to <path>.tmp and renames it over the log once the file is past
# `compact_at` bytes and at most half live. `written` counts every byte put on flash.
# Counters: <state_dir>/seq.json, replaced by write-to-temp + rename (old or new, never torn).
# Seqs are reserved in blocks: one is handed out only when it is at or below a mark already on
# flash, so no seq is ever handed out twice.

import gc
import os
import struct

from binascii import crc32
from micropython import const

from . import call
from .ring import Ring

_HDR = const(6)
_MAX_BODY = const(1600)
_S = const(24)  # fixed part of an S body
MODES = ("receive", "pick", "return", "count", "count-close", "transfer-out", "transfer-in")


def worth_compacting(ob, size):
    return size >= ob.compact_at and 2 * ob.ring.live_bytes <= size


class OutboxFull(Exception):
    pass


class Outbox:
    def __init__(self, path, state_dir, capacity=512, compact_at=32768, block=64):
        self.path = path
        self.mark_path = state_dir + "/seq.json"
        self.compact_at = compact_at
        self.capacity = capacity
        self.block = block
        self.ring = Ring(min(capacity, 64))
        self._buf = bytearray(_HDR + _MAX_BODY)  # the one record buffer, reused
        self._mv = memoryview(self._buf)
        self._f = None
        self._size = self.written = self.torn = self.boot = self.hwm = 0
        self.next = 1

    def open(self):
        """Load the log, count this boot, reserve seqs above everything ever used
        (outbox_log.py, loaded for it)."""
        call("outbox_log", "open_log", self)
        return self

    def _reserve(self):
        self.hwm = self.next + self.block - 1
        data = '{"hwm": %d, "boot": %d}' % (self.hwm, self.boot)
        tmp = self.mark_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.rename(tmp, self.mark_path)
        self.written += len(data)

    def full(self):
        return self.ring.live >= self.capacity

    def next_seq(self):
        if self.next > self.hwm:
            self._reserve()
        self.next += 1
        return self.next - 1

    def append(self, seq, ts, mode, qty, loc, ref, code):
        """Write one scan and flush before returning; OutboxFull if there is no room."""
        if self.full():
            raise OutboxFull()
        self.ring.room()  # before the write: a scan on flash is a scan in the index
        c = code.encode() if isinstance(code, str) else code  # a read's bytes: not copied
        lo = loc.encode()
        r = ref.encode()
        if len(c) > 1024 or len(lo) > 255 or len(r) > 255:
            raise ValueError("field too long")
        b = self._buf
        struct.pack_into(
            "<BIIQIBH", b, _HDR, 0x53, seq, self.boot, ts, qty, MODES.index(mode), len(c)
        )
        p = _HDR + _S
        for s in (c, lo, r):
            if s is not c:
                b[p] = len(s)
                p += 1
            b[p : p + len(s)] = s
            p += len(s)
        self.ring.push(seq, self._write(p - _HDR), p)

    def _write(self, blen):
        """Frame the body in the buffer, append and flush it; return its offset."""
        mv = self._mv
        struct.pack_into("<HI", self._buf, 0, blen, crc32(mv[_HDR : _HDR + blen]))
        off = self._size
        f = self._file()
        f.write(mv[: _HDR + blen])
        f.flush()
        self._size += _HDR + blen
        self.written += _HDR + blen
        return off

    def _file(self):
        """The log, open for appending; reopened if a compaction failed after closing it
        (the log on flash is whole either way: the old one, or the new one renamed over it)."""
        if self._f is None:
            self._f = open(self.path, "a+b")
        return self._f

    def load(self, off, raw=False):
        """(seq, boot, ts, qty, mode, code, loc, ref) of the scan record at `off`; with `raw`
        the code is a memoryview of the record buffer (valid until the outbox's next call)."""
        f = self._file()
        mv = self._mv
        b = self._buf
        f.seek(off)
        f.readinto(mv[:_HDR])
        f.readinto(mv[_HDR : _HDR + struct.unpack_from("<H", b, 0)[0]])
        _, seq, boot, ts, qty, mode, n = struct.unpack_from("<BIIQIBH", b, _HDR)
        p = _HDR + _S
        code = mv[p : p + n] if raw else str(mv[p : p + n], "utf-8")
        p += n
        loc = str(mv[p + 1 : p + 1 + b[p]], "utf-8")
        p += 1 + b[p]
        return seq, boot, ts, qty, MODES[mode], code, loc, str(mv[p + 1 : p + 1 + b[p]], "utf-8")

    def ack(self, ranges):
        """Drop the live scans in `ranges` ([[first, last], ...]); return how many went.
        Appends one D record only if something was live; compacts when worthwhile."""
        gone = n = 0
        for first, last in ranges:
            g = self.ring.drop(first, last)
            if g:
                gone += g
                if n == 190:
                    self._done(n)
                    n = 0
                struct.pack_into("<II", self._buf, _HDR + 2 + 8 * n, first, last)
                n += 1
        if n:
            self._done(n)
        if gone and worth_compacting(self, self._size):
            try:
                call("outbox_log", "compact", self, self._size)
            except (MemoryError, OSError):  # no room now (heap or flash): the next ack
                gc.collect()  # tries again; the log stays as it was or as compacted
        return gone

    def _done(self, n):
        self._buf[_HDR] = 0x44
        self._buf[_HDR + 1] = n
        self._write(2 + 8 * n)

    def close(self):
        if self._f:
            self._f.close()
            self._f = None
