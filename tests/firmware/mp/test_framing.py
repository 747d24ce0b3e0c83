"""Scan-engine framing: fragments, CR/LF, over-long frames, bytes kept as read."""

from stockwire_fw.framing import Framer


def test_fragments_and_terminators():
    f = Framer()
    out = []
    f.feed(b"]C101", out)
    assert out == []
    f.feed(b"23\x1d10A\r\n59012", out)
    assert out == [b"]C10123\x1d10A"]
    f.feed(b"34\n\r\r", out)
    assert out == [b"]C10123\x1d10A", b"5901234"]


def test_over_long_frame_refused_then_recovers():
    f = Framer(limit=8)
    out = []
    f.feed(b"12345678", out)
    f.feed(b"9abc", out)
    f.feed(b"def\rok\r", out)
    assert out == [None, b"ok"]
    assert f.refused == 1
    out = []
    f.feed(b"x" * 8 + b"\r", out)
    assert out == [b"x" * 8]


def test_default_limit_is_1024():
    f = Framer()
    out = []
    f.feed(b"a" * 1024 + b"\r" + b"b" * 1025 + b"\r", out)
    assert out == [b"a" * 1024, None]
