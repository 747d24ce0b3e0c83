"""The outbox's log file read and rewritten whole: the boot-time load (torn last record
dropped, ring rebuilt, boot counted, seqs reserved) and compaction. Both run seldom, so
outbox.py loads this module only for them (stockwire_fw.call) and it costs no heap between.
The record format and the power-loss rules are outbox.py's.
"""

import json
import os
import struct

from binascii import crc32
from micropython import const

from .outbox import worth_compacting

_HDR = const(6)  # as outbox.py
_MAX_BODY = const(1600)


def open_log(ob):
    """Load the log into `ob`, count this boot, reserve seqs above everything ever used."""
    try:
        os.remove(ob.path + ".tmp")
    except OSError:
        pass
    top = good = size = 0
    try:
        f = open(ob.path, "rb")
    except OSError:
        f = None
    if f:
        top, good, size = _load(ob, f)
        f.close()
    ob.torn = 1 if good < size else 0
    hwm = boot = 0
    try:
        with open(ob.mark_path) as f:
            doc = json.load(f)
        hwm, boot = int(doc.get("hwm", 0)), int(doc.get("boot", 0))
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    ob.boot = boot + 1
    ob.next = max(hwm, top) + 1
    ob._reserve()
    if size == 0 or ob.torn or worth_compacting(ob, size):
        compact(ob, good)
    else:
        ob._size = size
        ob._f = open(ob.path, "a+b")


def _load(ob, f):
    """(highest seq seen, bytes of good records, file size) of the log `f`; the ring filled."""
    top = off = 0
    mv = ob._mv
    b = ob._buf
    ring = ob.ring
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
            ring.push(seq, off, _HDR + blen)
        elif kind == 0x44:  # D
            for j in range(b[_HDR + 1]):
                ring.drop(*struct.unpack_from("<II", b, _HDR + 2 + 8 * j))
        elif kind == 0x48:  # H
            top = max(top, struct.unpack_from("<I", b, _HDR + 2)[0])
        off += _HDR + blen


def compact(ob, good):
    """Copy the header and the live records (within the first `good` bytes) to a temp
    file, record by record through the one buffer, and rename it over the log."""
    r = ob.ring
    src = ob._f or (open(ob.path, "rb") if r.used else None)
    tmp = ob.path + ".tmp"
    out = open(tmp, "wb")
    b = ob._buf
    mv = ob._mv
    b[_HDR] = 0x48
    b[_HDR + 1] = 1
    struct.pack_into("<I", b, _HDR + 2, ob.hwm)
    struct.pack_into("<HI", b, 0, 6, crc32(mv[_HDR : _HDR + 6]))
    out.write(mv[: _HDR + 6])
    for k in range(r.used):
        i = (r.head + k) % r.cap
        off = r.offs[i]
        if off and off + r.lens[i] > good:
            r.kill(i)
        elif off:
            src.seek(off)
            src.readinto(mv[: r.lens[i]])
            out.write(mv[: r.lens[i]])
    out.close()
    if src:
        src.close()
    ob._f = None
    os.rename(tmp, ob.path)
    pos = _HDR + 6  # the new offsets, now that the new log is in place
    for k in range(r.used):
        i = (r.head + k) % r.cap
        if r.offs[i]:
            r.offs[i] = pos
            pos += r.lens[i]
    ob.written += pos
    r.squeeze()
    ob._size = pos
    ob._f = open(ob.path, "a+b")
