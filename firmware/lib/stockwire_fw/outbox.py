"""The scanner's flash outbox: every taken scan, kept until the gateway's ack removes it.

Owns the on-flash log and its power-loss rules; the RAM index is ring.py, the seq/boot
counters seqmark.py.
"""

# Format: append-only records `len:u16 | crc32:u32 | body`, CRC over the body. A record
# running past the end of the file or failing its CRC ends the log: a torn last record is
# ignored, and the file is rewritten without it before anything is appended.
# Bodies: H header (format, seq mark), S scan (the fields, ~60 bytes, not the JSON), D done
# (acked seq ranges). An ack appends a D record; nothing is rewritten in place. Compaction
# copies the live records to <path>.tmp and renames it over the log once the file is past
# `compact_at` bytes and at most half live. `written` counts every byte put on flash.

import os
import struct

from binascii import crc32
from micropython import const

from .ring import Ring
from .seqmark import SeqMark

_HDR = const(6)
_MAX_BODY = const(1600)
_S = const(24)  # fixed part of an S body
MODES = ("receive", "pick", "return", "count", "count-close", "transfer-out", "transfer-in")


class OutboxFull(Exception):
    pass


class Outbox:
    def __init__(self, path, state_dir, capacity=512, compact_at=32768, block=64):
        self.path = path
        self.compact_at = compact_at
        self.capacity = capacity
        self.ring = Ring(capacity)
        self.mark = SeqMark(state_dir + "/seq.json", block)
        self._buf = bytearray(_HDR + _MAX_BODY)
        self._mv = memoryview(self._buf)
        self._f = None
        self._size = 0
        self.torn = 0

    @property
    def depth(self):
        return self.ring.live

    @property
    def boot(self):
        return self.mark.boot

    @property
    def last_seq(self):
        return self.mark.next - 1

    @property
    def written(self):
        return self._written + self.mark.written

    def open(self):
        """Load the log, count this boot, reserve seqs above everything ever used."""
        self._written = 0
        try:
            os.remove(self.path + ".tmp")
        except OSError:
            pass
        top = good = size = 0
        try:
            f = open(self.path, "rb")
        except OSError:
            f = None
        if f:
            top, good, size = self._load(f)
            f.close()
        self.torn = 1 if good < size else 0
        self.mark.start(top)
        if size == 0 or self.torn or self._worth_compacting(size):
            self._compact(good)
        else:
            self._size = size
            self._f = open(self.path, "a+b")
        return self

    def _load(self, f):
        top = off = 0
        mv = self._mv
        b = self._buf
        while True:
            n = f.readinto(mv[:_HDR]) or 0
            if n < _HDR:
                return top, off, off + n
            blen, crc = struct.unpack_from("<HI", b, 0)
            n = f.readinto(mv[_HDR : _HDR + blen]) if 0 < blen <= _MAX_BODY else 0
            if n != blen or crc32(mv[_HDR : _HDR + blen]) != crc:
                return top, off, off + _HDR + n + 1
            kind = b[_HDR]
            if kind == 0x53:  # S
                seq = struct.unpack_from("<I", b, _HDR + 1)[0]
                top = max(top, seq)
                self.ring.push(seq, off, _HDR + blen)
            elif kind == 0x44:  # D
                for j in range(b[_HDR + 1]):
                    self.ring.drop(*struct.unpack_from("<II", b, _HDR + 2 + 8 * j))
            elif kind == 0x48:  # H
                top = max(top, struct.unpack_from("<I", b, _HDR + 2)[0])
            off += _HDR + blen

    def full(self):
        return self.ring.live >= self.capacity

    def next_seq(self):
        return self.mark.take()

    def append(self, seq, ts, mode, qty, loc, ref, code):
        """Write one scan and flush before returning; OutboxFull if there is no room."""
        if self.full():
            raise OutboxFull()
        c = code.encode()
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
        self._f.write(mv[: _HDR + blen])
        self._f.flush()
        self._size += _HDR + blen
        self._written += _HDR + blen
        return off

    def load(self, off):
        """(seq, boot, ts, qty, mode, code, loc, ref) of the scan record at `off`."""
        f = self._f
        mv = self._mv
        b = self._buf
        f.seek(off)
        f.readinto(mv[:_HDR])
        f.readinto(mv[_HDR : _HDR + struct.unpack_from("<H", b, 0)[0]])
        _, seq, boot, ts, qty, mode, n = struct.unpack_from("<BIIQIBH", b, _HDR)
        p = _HDR + _S
        out = [seq, boot, ts, qty, MODES[mode]]
        for _ in range(3):
            out.append(str(mv[p : p + n], "utf-8"))
            p += n
            n = b[p]
            p += 1
        return tuple(out)

    def after(self, seq):
        return self.ring.after(seq)

    def oldest(self):
        return self.ring.after(0)

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
        if gone and self._worth_compacting(self._size):
            self.compact()
        return gone

    def _done(self, n):
        self._buf[_HDR] = 0x44
        self._buf[_HDR + 1] = n
        self._write(2 + 8 * n)

    def _worth_compacting(self, size):
        return size >= self.compact_at and 2 * self.ring.live_bytes <= size

    def compact(self):
        self._compact(self._size)

    def _compact(self, good):
        """Copy the header and the live records (within the first `good` bytes) to a temp
        file and rename it over the log."""
        items = self.ring.items()
        src = self._f or (open(self.path, "rb") if items else None)
        tmp = self.path + ".tmp"
        out = open(tmp, "wb")
        b = self._buf
        mv = self._mv
        b[_HDR] = 0x48
        b[_HDR + 1] = 1
        struct.pack_into("<I", b, _HDR + 2, self.mark.hwm)
        struct.pack_into("<HI", b, 0, 6, crc32(mv[_HDR : _HDR + 6]))
        out.write(mv[: _HDR + 6])
        pos = _HDR + 6
        new = []
        for seq, off, ln in items:
            if off + ln <= good:
                src.seek(off)
                src.readinto(mv[:ln])
                out.write(mv[:ln])
                new.append((seq, pos, ln))
                pos += ln
        out.close()
        if src:
            src.close()
        self._f = None
        os.rename(tmp, self.path)
        self._written += pos
        self.ring.reset(new)
        self._size = pos
        self._f = open(self.path, "a+b")

    def close(self):
        if self._f:
            self._f.close()
            self._f = None
