"""The outbox's RAM index: live scans as (seq, file offset, record length), oldest first.

A ring in three preallocated arrays, kept sorted by seq (seqs only grow), so lookups are a
binary search. Acked slots are marked dead (offset 0, which is always the log's header) and
fall off the head; `squeeze` closes holes; `grow` doubles (only while loading a log written
with a larger capacity). Pure: no I/O.
"""

from array import array

from micropython import const

_DEAD = const(0)


class Ring:
    def __init__(self, capacity):
        self.cap = capacity
        self.seqs = array("I", bytes(4 * capacity))
        self.offs = array("I", bytes(4 * capacity))
        self.lens = array("H", bytes(2 * capacity))
        self.head = 0  # index of the oldest slot
        self.used = 0  # slots in use (live or dead) from head
        self.live = 0
        self.live_bytes = 0

    def push(self, seq, off, ln):
        if self.used == self.cap:
            if self.live < self.used:
                self.squeeze()
            else:
                self.grow()
        i = (self.head + self.used) % self.cap
        self.seqs[i] = seq
        self.offs[i] = off
        self.lens[i] = ln
        self.used += 1
        self.live += 1
        self.live_bytes += ln

    def items(self):
        """Live (seq, off, len), oldest first (a new list)."""
        out = []
        for k in range(self.used):
            i = (self.head + k) % self.cap
            if self.offs[i] != _DEAD:
                out.append((self.seqs[i], self.offs[i], self.lens[i]))
        return out

    def reset(self, items):
        self.head = 0
        self.used = self.live = self.live_bytes = 0
        for s, o, ln in items:
            self.push(s, o, ln)

    def squeeze(self):
        self.reset(self.items())

    def grow(self):
        items = self.items()
        for a in (self.seqs, self.offs):
            a.extend(array("I", bytes(4 * self.cap)))
        self.lens.extend(array("H", bytes(2 * self.cap)))
        self.cap *= 2
        self.reset(items)

    def _find(self, seq):
        """Position (0..used) of the first slot with a seq >= `seq`."""
        lo, hi = 0, self.used
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.seqs[(self.head + mid) % self.cap] < seq:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def drop(self, first, last):
        """Mark live slots with first <= seq <= last dead; return how many."""
        k = self._find(first)
        gone = 0
        while k < self.used:
            i = (self.head + k) % self.cap
            if self.seqs[i] > last:
                break
            if self.offs[i] != _DEAD:
                self.offs[i] = _DEAD
                self.live_bytes -= self.lens[i]
                self.live -= 1
                gone += 1
            k += 1
        while self.used and self.offs[self.head] == _DEAD:
            self.head = (self.head + 1) % self.cap
            self.used -= 1
        return gone

    def after(self, seq):
        """(seq, off) of the oldest live slot with a seq above `seq`, or None."""
        k = self._find(seq + 1)
        while k < self.used:
            i = (self.head + k) % self.cap
            if self.offs[i] != _DEAD:
                return self.seqs[i], self.offs[i]
            k += 1
        return None
