"""Reconnect policy: exponential backoff with full jitter, bounded, reset on success.

Pure: the random source can be injected (`rand(n)` returns an int in 0..n-1), so tests are exact.
"""

from random import getrandbits


def backoff_ms(attempt, base_ms, cap_ms, rand=None):
    """Delay before attempt number `attempt` (0 after a success): uniform in
    [base, min(cap, base * 2**attempt)]."""
    span = min(cap_ms, base_ms << min(attempt, 20)) - base_ms
    if span <= 0:
        return base_ms
    return base_ms + (rand(span + 1) if rand else getrandbits(24) % (span + 1))
