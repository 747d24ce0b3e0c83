"""The scan engine's command reply: dropped before framing, so it never joins a scan.

A GM65-class engine answers the trigger command with `02 00 <status> <L> <L bytes> <2 CRC>`
before the read (hardware/scan-engine.md). After `expect()` (the command was sent), a reply
that starts a frame (the stream's start, or just after CR/LF) is dropped, however the UART
splits it; everything else goes to the framer as read. A frame that starts otherwise means no
reply is coming, and the expectation ends; without one, every byte (0x02 included) passes.
No allocation per byte: the bytes passed on are slices of what was read.
"""

from micropython import const

_CR = const(13)
_LF = const(10)
_STX = const(2)
_HELD = b"\x02"  # a held first byte that turned out not to start a reply
# `_at`: 0 passing bytes on; 1 a 0x02 held; 2 status next; 3 length next; 4 data/CRC left


class ReplyFilter:
    def __init__(self) -> None:
        self._pending = 0  # replies expected: trigger commands not answered yet
        self._at = 0
        self._left = 0  # reply bytes still to drop (at 4)
        self._edge = True  # at a frame's start

    def expect(self) -> None:
        """A command went to the engine: drop its reply when it comes."""
        self._pending += 1  # a frame that starts as a read sets it back to 0

    def feed(self, data, framer, out: list) -> list:
        """Pass `data` less any reply to `framer.feed(bytes, out)`; returns `out`."""
        n = len(data)
        i = start = 0  # data[start:i] is yet to be passed on
        while i < n:
            b = data[i]
            at = self._at
            i += 1
            if at == 0:
                if not self._pending:
                    i = n
                    break
                if b in (_CR, _LF):
                    self._edge = True
                elif not self._edge:
                    pass
                elif b == _STX:
                    if i - 1 > start:
                        framer.feed(data[start : i - 1], out)
                    self._at = 1
                    start = i
                else:  # a read begins: no reply is coming
                    self._pending = 0
                    self._edge = False
            elif at == 1:
                if b == 0:
                    self._at = 2
                    start = i
                else:  # 0x02 began a read
                    framer.feed(_HELD, out)
                    self._at = self._pending = 0
                    self._edge = False
                    start = i - 1
            else:
                start = i
                if at == 2:
                    self._at = 3
                elif at == 3:
                    self._left = b + 2  # data and CRC
                    self._at = 4
                else:
                    self._left -= 1
                    if not self._left:
                        self._at = 0
                        self._pending -= 1
                        self._edge = True
        if self._at == 0 and start < n:
            framer.feed(data[start:] if start else data, out)
            b = data[n - 1]
            self._edge = b in (_CR, _LF)
        return out
