"""Scan-engine framing: turns UART (or feed) byte fragments into whole reads.

Owns the frame rule: a frame ends at CR or LF; empty frames (CR LF pairs) are skipped; a frame
longer than MAX_FRAME bytes is refused (reported as None, counted in `refused`) and the rest of
it, up to the next terminator, is discarded. Every other byte, including an AIM prefix and GS
(0x1D), is kept exactly as read. No allocation per byte: one preallocated buffer.
"""

from micropython import const

MAX_FRAME = const(1024)
_CR = const(13)
_LF = const(10)


class Framer:
    def __init__(self, limit=MAX_FRAME):
        self._buf = bytearray(limit)
        self._mv = memoryview(self._buf)
        self._limit = limit
        self._n = 0
        self._over = False  # inside a frame that is already too long
        self.refused = 0  # over-long frames refused since start

    def feed(self, data, out):
        """Append each finished frame of `data` to the list `out`: bytes, or None for a refused
        over-long frame. Returns `out`."""
        buf = self._buf
        mv = self._mv
        limit = self._limit
        n = self._n
        for b in data:
            if b == _CR or b == _LF:
                if self._over:
                    self._over = False
                    self.refused += 1
                    out.append(None)
                elif n:
                    out.append(bytes(mv[:n]))  # the one copy of the frame
                n = 0
            elif self._over:
                pass
            elif n < limit:
                buf[n] = b
                n += 1
            else:
                self._over = True
                n = 0
        self._n = n
        return out

    def reset(self):
        self._n = 0
        self._over = False
