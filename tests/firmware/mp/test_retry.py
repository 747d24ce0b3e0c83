"""Backoff with jitter: bounds, growth, cap, reset."""

from stockwire_fw.retry import Backoff


def test_growth_cap_reset():
    b = Backoff(100, 1000, rand=lambda n: n - 1)  # always the top of the range
    assert [b.next_ms() for _ in range(6)] == [100, 200, 400, 800, 1000, 1000]
    b.reset()
    assert b.next_ms() == 100
    lo = Backoff(100, 1000, rand=lambda n: 0)
    assert [lo.next_ms() for _ in range(4)] == [100, 100, 100, 100]


def test_jitter_in_range():
    b = Backoff(50, 400)
    for k in range(50):
        d = b.next_ms()
        assert 50 <= d <= 400
