"""MicroPython script (unix port, run in a built firmware tree by tools/firmware_figures.py):
the flash bytes the scanner writes per scan, and the time one outbox append + ack takes.

Flash: the real Scanner (app.py) and Outbox on files in a scratch directory, driven as a shift
drives it: a worker reads items with realistic codes (EAN-13 and GS1-128 with their AIM
prefixes, some plain Code 128), a location label every 20 items, a one-shot quantity every 50,
a mode and reference change every 200; the gateway acks `stored` in ranges of 1-8 seqs and,
twice, after 60 scans taken offline (several ranges in one ack); `booked` follows (it writes
nothing). So the outbox compacts and reserves seq blocks as it does on a board, and the label
context is saved when it changes. Two counts: `Outbox.written` (the outbox's own counter; the
app adds the context file's bytes to it) and /proc/self/io's wchar (every byte the process
passed to write(), nothing printed meanwhile), which catches any other file the firmware
writes. Time: N appends (flushed), each acked at once, beside the same bytes per scan plainly
appended and flushed to a file. Prints `flash <scans> <written> <wchar> <label reads>`, then
`append+ack <us per scan> <us per scan, plain append>`.
Usage: micropython -X heapsize=64k firmware_figures_mp.py SCRATCH_DIR [SCANS]
"""
# ruff: noqa: UP031 (MicroPython: % formatting is the cheap one)

import gc
import json
import os
import sys
import time

sys.path.insert(0, "lib")

from stockwire_fw.app import Scanner
from stockwire_fw.outbox import Outbox


def _nothing(*args):
    return None


class Hal:
    """The worker's feedback goes nowhere; anything else the app asks for does nothing."""

    def signal(self, kind, *args):
        pass

    def now_ms(self):
        return 1796400000000

    def battery_mv(self):
        return 3900

    def rssi(self):
        return -50

    def __getattr__(self, name):
        return _nothing


class Client:
    on_message = None
    retained = False
    up = False


_seed = [12345]


def rnd(n):
    """0..n-1, the same sequence every run."""
    _seed[0] = (_seed[0] * 1103515245 + 12345) & 0x7FFFFFFF
    return (_seed[0] >> 8) % n


def digits(n):
    return "".join(str(rnd(10)) for _ in range(n))


def item():
    k = rnd(10)
    if k < 6:
        return "]E0" + digits(13)  # EAN-13
    if k < 9:  # GS1-128: GTIN, lot, sometimes a best-before date
        code = "]C101" + digits(14) + "\x1d10L" + digits(5)
        return code + ("\x1d17" + digits(6) if rnd(2) else "")
    return "PRT-" + digits(6)  # an in-house Code 128


def wchar():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def flash(work, scans):
    os.mkdir(work + "/app")
    state = work + "/app"
    cfg = {"dev": "hs-01", "site": "site1", "mqtt": {}, "state_dir": state}
    ob = Outbox(state + "/outbox.log", state)
    w0 = wchar()
    ob.open()
    sc = Scanner(cfg, Hal(), ob, Client())
    modes = (("receive", "PO-20261204"), ("pick", "SO-0004711"))
    labels = 0
    pending = []  # taken, not yet acked
    batch = 1 + rnd(8)
    offline = 0
    for i in range(scans):
        reads = []
        if i % 200 == 0:
            mode, ref = modes[(i // 200) % 2]
            reads += ["SW:MODE:" + mode, "SW:REF:" + ref]
        if i % 20 == 0:
            reads.append("]C0SW:LOC:WH1-%s-%02d" % ("ABCDEF"[rnd(6)], 1 + rnd(40)))
        if i % 50 == 25:
            reads.append("SW:QTY:%d" % (2 + rnd(11)))
        for r in reads:
            sc.handle_read(r.encode())
        labels += len(reads)
        seq = sc.handle_read(item().encode())
        if seq is None:
            raise RuntimeError("scan %d not taken" % i)
        pending.append(seq)
        if i in (300, 700):
            offline = 60  # the gateway is away: 60 scans wait, then one ack of many ranges
        if offline:
            offline -= 1
            if offline:
                continue
            ranges = [
                [pending[j], pending[min(j + 9, len(pending) - 1)]]
                for j in range(0, len(pending), 10)
            ]
        elif len(pending) < batch:
            continue
        else:
            ranges = [[pending[0], pending[-1]]]
            batch = 1 + rnd(8)
        for status in ("stored", "booked"):
            doc = {"seqs": ranges, "status": status}
            sc.on_message(sc.t_ack, json.dumps(doc).encode())
        pending = []
        gc.collect()
    total = wchar() - w0
    print("flash %d %d %d %d" % (scans, ob.written, total, labels))
    ob.close()


def timing(work, scans):
    state = work + "/ob"
    os.mkdir(state)
    ob = Outbox(state + "/outbox.log", state).open()
    code = b"]C10109506000134352\x1d10L2612"
    gc.collect()
    t0 = time.ticks_us()
    for _ in range(scans):
        seq = ob.next_seq()
        ob.append(seq, 0, "receive", 1, "WH1-A-01", "PO-1001", code)
        ob.ack([[seq, seq]])
    us = time.ticks_diff(time.ticks_us(), t0)
    n = ob.written // scans  # the reference: as many bytes, appended and flushed, per scan
    ob.close()
    gc.collect()
    data = bytes(n)
    with open(state + "/plain", "ab") as f:
        t0 = time.ticks_us()
        for _ in range(scans):
            f.write(data)
            f.flush()
        ref = time.ticks_diff(time.ticks_us(), t0)
    print("append+ack %d %d" % (us // scans, ref // scans))


def main():
    work = sys.argv[1]
    scans = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    flash(work, scans)
    timing(work, scans)


main()
