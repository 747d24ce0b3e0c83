"""Backoff with jitter: bounds, growth, cap, reset."""

from stockwire_fw.retry import backoff_ms


def test_growth_cap_reset():
    top = lambda n: n - 1  # noqa: E731 - always the top of the range
    assert [backoff_ms(a, 100, 1000, top) for a in range(6)] == [100, 200, 400, 800, 1000, 1000]
    assert backoff_ms(0, 100, 1000, top) == 100  # after a success the count starts again
    assert [backoff_ms(a, 100, 1000, lambda n: 0) for a in range(4)] == [100, 100, 100, 100]


def test_jitter_in_range():
    for a in range(50):
        d = backoff_ms(a, 50, 400)
        assert 50 <= d <= 400
