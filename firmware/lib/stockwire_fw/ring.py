"""The outbox's RAM index: live scans as (seq, file offset, record length), oldest first.

A ring in three arrays (10 bytes a slot), kept sorted by seq (seqs only grow), so lookups are
a binary search. Acked slots are marked dead (offset 0, always the log's header) and fall off
the head; `squeeze` closes holes in place. The ring starts small and `room()` doubles it when
it is full of live scans (only while the gateway is unreachable), so a scanner that is online
keeps ~1 KB here instead of the whole capacity. Nothing is allocated per scan. Pure: no I/O.
"""

from array import array


def _arrays(n):
    return array("I", bytes(4 * n)), array("I", bytes(4 * n)), array("H", bytes(2 * n))


class Ring:
    def __init__(self, slots=64):
        self.cap = slots
        self.seqs, self.offs, self.lens = _arrays(slots)
        self.head = 0  # index of the oldest slot
        self.used = 0  # slots in use (live or dead) from head
        self.live = 0
        self.live_bytes = 0

    def room(self):
        """Make sure one more slot fits (MemoryError if the ring cannot grow)."""
        if self.used == self.cap:
            if self.live < self.used:
                self.squeeze()
            else:
                self.grow()

    def push(self, seq, off, ln):
        self.room()
        i = (self.head + self.used) % self.cap
        self.seqs[i] = seq
        self.offs[i] = off
        self.lens[i] = ln
        self.used += 1
        self.live += 1
        self.live_bytes += ln

    def squeeze(self):
        """Move the live slots together behind the head (in place, order kept)."""
        s, o, ln, h, c = self.seqs, self.offs, self.lens, self.head, self.cap
        w = 0
        for k in range(self.used):
            i = (h + k) % c
            if o[i]:
                j = (h + w) % c
                s[j], o[j], ln[j] = s[i], o[i], ln[i]
                w += 1
        self.used = w

    def grow(self):
        s, o, ln = _arrays(2 * self.cap)
        for k in range(self.used):
            i = (self.head + k) % self.cap
            s[k], o[k], ln[k] = self.seqs[i], self.offs[i], self.lens[i]
        self.seqs, self.offs, self.lens = s, o, ln
        self.cap *= 2
        self.head = 0

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

    def kill(self, i):
        """Mark slot `i` dead (it must be live)."""
        self.offs[i] = 0
        self.live_bytes -= self.lens[i]
        self.live -= 1

    def drop(self, first, last):
        """Mark live slots with first <= seq <= last dead; return how many."""
        k = self._find(first)
        gone = 0
        while k < self.used:
            i = (self.head + k) % self.cap
            if self.seqs[i] > last:
                break
            if self.offs[i]:
                self.kill(i)
                gone += 1
            k += 1
        while self.used and not self.offs[self.head]:
            self.head = (self.head + 1) % self.cap
            self.used -= 1
        return gone

    def after(self, seq):
        """(seq, off) of the oldest live slot with a seq above `seq`, or None."""
        k = self._find(seq + 1)
        while k < self.used:
            i = (self.head + k) % self.cap
            if self.offs[i]:
                return self.seqs[i], self.offs[i]
            k += 1
        return None
