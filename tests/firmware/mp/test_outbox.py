"""The flash outbox: durability across reopen, acks, torn tails, seq never reused, compaction."""

import os

from stockwire_fw.outbox import Outbox, OutboxFull

from util import scratch


def _ob(d, **kw):
    return Outbox(d + "/outbox.log", d, **kw).open()


def _add(ob, code="5901234123457"):
    seq = ob.next_seq()
    ob.append(seq, 1796312366123, "receive", 2, "WH1-A-01", "PO-1", code)
    return seq


def _live(ob):
    out = []
    s = 0
    while True:
        n = ob.ring.after(s)
        if n is None:
            return out
        s = n[0]
        out.append(s)


def test_append_load_reopen():
    d = scratch("reopen")
    ob = _ob(d)
    assert ob.boot == 1
    assert [_add(ob) for _ in range(3)] == [1, 2, 3]
    seq, off = ob.ring.after(0)
    assert ob.load(off) == (1, 1, 1796312366123, 2, "receive", "5901234123457", "WH1-A-01", "PO-1")
    ob.close()
    ob = _ob(d)
    assert ob.boot == 2 and ob.ring.live == 3 and _live(ob) == [1, 2, 3]
    s = _add(ob, "]C1x\x1dy")
    assert s > 3  # a new boot continues above its reserved block
    assert ob.load(ob.ring.after(3)[1])[:2] == (s, 2)
    assert ob.load(ob.ring.after(3)[1])[5] == "]C1x\x1dy"


def test_ack_removes_and_survives_reopen():
    d = scratch("ack")
    ob = _ob(d)
    for _ in range(6):
        _add(ob)
    assert ob.ack([[2, 3], [5, 5]]) == 3
    assert _live(ob) == [1, 4, 6]
    assert ob.ack([[2, 3]]) == 0  # a duplicate ack writes nothing
    size = os.stat(d + "/outbox.log")[6]
    assert ob.ack([[100, 200]]) == 0
    assert os.stat(d + "/outbox.log")[6] == size
    ob.close()
    ob = _ob(d)
    assert _live(ob) == [1, 4, 6] and ob.ring.live == 3


def test_torn_last_record_ignored():
    d = scratch("torn")
    ob = _ob(d)
    for _ in range(3):
        _add(ob)
    ob.close()
    with open(d + "/outbox.log", "rb") as f:
        data = f.read()
    for cut in (1, 5, 20):  # power cut inside the last record, at several points
        with open(d + "/outbox.log", "wb") as f:
            f.write(data[:-cut])
        ob = _ob(d)
        assert _live(ob) == [1, 2], (cut, _live(ob))
        assert ob.torn == 1
        s = _add(ob)
        assert s > 3  # seq 3 was handed out before: never reused
        ob.close()
        ob = _ob(d)
        assert _live(ob) == [1, 2, s] and ob.torn == 0
        ob.close()
    # garbage (a flipped bit) in the last record is caught by the CRC
    with open(d + "/outbox.log", "rb") as f:
        data = bytearray(f.read())
    data[-3] ^= 0x40
    with open(d + "/outbox.log", "wb") as f:
        f.write(data)
    ob = _ob(d)
    assert _live(ob) == [1, 2]
    assert ob.torn == 1 and ob.ring.live == 2


def test_seq_never_reused_after_everything_acked_and_compacted():
    d = scratch("seq")
    ob = _ob(d, block=4, compact_at=256)
    seqs = [_add(ob) for _ in range(10)]
    assert seqs == list(range(1, 11))
    ob.ack([[1, 10]])
    assert ob.ring.live == 0
    assert os.stat(d + "/outbox.log")[6] < 256  # compacted
    ob.close()
    ob = _ob(d, block=4, compact_at=256)
    assert _add(ob) > 10
    # even with the state file lost, the compacted header keeps the mark
    ob.close()
    os.remove(d + "/seq.json")
    ob = _ob(d, block=4, compact_at=256)
    assert _add(ob) > 11


def test_crash_between_reserve_and_append():
    d = scratch("reserve")
    ob = _ob(d, block=4)
    last = 0
    for _ in range(9):
        last = ob.next_seq()  # handed out, never written (power cut before the append)
    ob.close()
    ob = _ob(d, block=4)
    assert _add(ob) > last


def test_compaction_keeps_live_and_order():
    d = scratch("compact")
    ob = _ob(d, compact_at=2048)
    for _ in range(60):
        _add(ob)
    for s in range(1, 60, 2):
        ob.ack([[s, s]])
    assert ob.ring.live == 30
    ob.ack([[2, 40]])
    assert _live(ob) == list(range(42, 61, 2))
    assert os.stat(d + "/outbox.log")[6] < 2048
    ob.close()
    ob = _ob(d, compact_at=2048)
    assert _live(ob) == list(range(42, 61, 2))
    assert ob.load(ob.ring.after(0)[1])[0] == 42


def test_a_compaction_that_cannot_write_leaves_the_ack_done_and_the_log_usable():
    d = scratch("compact_fail")
    ob = _ob(d, compact_at=2048)
    for _ in range(40):
        _add(ob)
    os.mkdir(d + "/outbox.log.tmp")  # the temp file cannot be made: the compaction fails
    assert ob.ack([[1, 39]]) == 39  # the ack holds anyway
    assert _live(ob) == [40] and os.stat(d + "/outbox.log")[6] >= 2048  # not compacted
    assert _add(ob) == 41
    os.rmdir(d + "/outbox.log.tmp")
    ob.ack([[40, 40]])  # now the compaction goes through
    assert os.stat(d + "/outbox.log")[6] < 2048
    ob.close()
    assert _live(_ob(d, compact_at=2048)) == [41]


def test_the_log_is_reopened_for_a_scan_after_a_compaction_closed_it():
    d = scratch("reopen_after")
    ob = _ob(d)
    _add(ob)
    ob.close()  # as a compaction that failed between closing the log and opening the new one
    assert _add(ob) == 2
    assert ob.load(ob.ring.after(1)[1])[0] == 2
    ob.close()
    assert _live(_ob(d)) == [1, 2]


def test_full_and_ring_reuse():
    d = scratch("full")
    ob = _ob(d, capacity=8)
    for _ in range(8):
        _add(ob)
    assert ob.full()
    try:
        ob.append(ob.next_seq(), 0, "pick", 1, "A", "", "x")
        assert False, "should be full"
    except OutboxFull:
        pass
    ob.ack([[3, 3]])  # a hole in the middle
    s = _add(ob)
    assert _live(ob) == [1, 2, 4, 5, 6, 7, 8, s]
    ob.ack([[1, 2]])
    for _ in range(2):
        _add(ob)
    assert ob.ring.live == 8 and _live(ob)[0] == 4


def test_bytes_written_per_scan():
    d = scratch("bytes")
    ob = _ob(d, compact_at=16384)
    w0 = ob.written
    n = 1000
    for i in range(n):
        _add(ob)
        if i % 10 == 9:
            ob.ack([[i - 8, i + 1]])  # one ack per 10 scans, like a gateway's group commit
    per = (ob.written - w0) / n
    print("outbox: %.1f flash bytes written per scan" % per)
    assert per <= 128, per
