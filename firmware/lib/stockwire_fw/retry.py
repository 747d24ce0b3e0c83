"""Reconnect policy: exponential backoff with full jitter, bounded, reset on success.

Pure: the random source is injected (`rand(n)` returns an int in 0..n-1), so tests are exact.
"""


def _default_rand(n):
    import random

    return random.getrandbits(24) % n if n > 0 else 0


class Backoff:
    def __init__(self, base_ms=250, cap_ms=30000, rand=None):
        self.base_ms = base_ms
        self.cap_ms = cap_ms
        self._rand = rand or _default_rand
        self.attempts = 0

    def next_ms(self):
        """Delay before the next attempt: uniform in [base, min(cap, base * 2**attempts)]."""
        hi = self.base_ms << min(self.attempts, 20)
        if hi > self.cap_ms:
            hi = self.cap_ms
        self.attempts += 1
        span = hi - self.base_ms
        return self.base_ms + (self._rand(span + 1) if span > 0 else 0)

    def reset(self):
        self.attempts = 0
