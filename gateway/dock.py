"""The dock reader's key streams, as pure code: evdev key events <-> barcode text.

Owns the US keyboard layout a keyboard-wedge reader types in, shift and caps lock, Ctrl+]
as GS (how wedge readers send FNC1), Enter as the end of a barcode, autorepeat ignored,
SYN_DROPPED discarding the partial read, and unknown keys flagging a read as garbled. Also
the inverse (text -> events) and the 64-bit Linux `struct input_event` record format, used by
replay files, the tests and the demo.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from evdev import ecodes

GS = "\x1d"
EVENT = struct.Struct("llHHi")  # struct input_event on 64-bit Linux: 24 bytes
KeyEvent = tuple[int, int, int]  # (type, code, value)

_PAIRS = {
    "MINUS": "-_", "EQUAL": "=+", "LEFTBRACE": "[{", "RIGHTBRACE": "]}", "BACKSLASH": "\\|",
    "SEMICOLON": ";:", "APOSTROPHE": "'\"", "GRAVE": "`~", "COMMA": ",<", "DOT": ".>",
    "SLASH": "/?", "SPACE": "  ", "TAB": "\t\t",
    "KPASTERISK": "**", "KPMINUS": "--", "KPPLUS": "++", "KPSLASH": "//", "KPDOT": "..",
}  # fmt: skip


def _layout() -> dict[int, tuple[str, str]]:
    keys: dict[int, tuple[str, str]] = {}
    for ch in "abcdefghijklmnopqrstuvwxyz":
        keys[getattr(ecodes, f"KEY_{ch.upper()}")] = (ch, ch.upper())
    for digit, shifted in zip("1234567890", "!@#$%^&*()", strict=True):
        keys[getattr(ecodes, f"KEY_{digit}")] = (digit, shifted)
        keys[getattr(ecodes, f"KEY_KP{digit}")] = (digit, digit)
    for name, pair in _PAIRS.items():
        keys[getattr(ecodes, f"KEY_{name}")] = (pair[0], pair[1])
    return keys


LAYOUT = _layout()
_SHIFT = frozenset((ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT))
_CTRL = frozenset((ecodes.KEY_LEFTCTRL, ecodes.KEY_RIGHTCTRL))
_IGNORED = frozenset(
    (ecodes.KEY_LEFTALT, ecodes.KEY_RIGHTALT, ecodes.KEY_NUMLOCK, ecodes.KEY_LEFTMETA)
)
_ENTER = frozenset((ecodes.KEY_ENTER, ecodes.KEY_KPENTER))
_TYPED: dict[str, tuple[int, bool]] = {}
for _code, (_plain, _shifted) in sorted(LAYOUT.items(), reverse=True):  # main keys win over KP
    _TYPED[_shifted] = (_code, _shifted != _plain)
    _TYPED[_plain] = (_code, False)


@dataclass(frozen=True, slots=True)
class Barcode:
    """One read: the text typed before Enter, and how many keys could not be understood."""

    text: str
    unknown_keys: int = 0

    @property
    def garbled(self) -> bool:
        return self.unknown_keys > 0


class KeyDecoder:
    """Feed (type, code, value) events one by one; `feed` returns a Barcode on Enter."""

    def __init__(self, max_chars: int = 4096) -> None:
        self._max = max_chars
        self._chars: list[str] = []
        self._unknown = 0
        self._shift: set[int] = set()
        self._ctrl: set[int] = set()
        self._caps = False
        self._dropping = False
        self.dropped_reads = 0  # partial reads thrown away after SYN_DROPPED

    def feed(self, type_: int, code: int, value: int) -> Barcode | None:
        if type_ == ecodes.EV_SYN:
            if code == ecodes.SYN_DROPPED:
                self._reset(dropped=True)
            elif code == ecodes.SYN_REPORT:
                self._dropping = False
            return None
        if type_ != ecodes.EV_KEY or self._dropping:
            return None
        if code in _SHIFT or code in _CTRL:
            held = self._shift if code in _SHIFT else self._ctrl
            if value:
                held.add(code)
            else:
                held.discard(code)
            return None
        if value != 1:  # release (0) or autorepeat (2)
            return None
        if code in _ENTER:
            return self._finish()
        if code == ecodes.KEY_CAPSLOCK:
            self._caps = not self._caps
        elif code in _IGNORED:
            pass
        elif self._ctrl:
            if code == ecodes.KEY_RIGHTBRACE:
                self._add(GS)
            else:
                self._unknown += 1
        elif code in LAYOUT:
            plain, shifted = LAYOUT[code]
            upper = bool(self._shift) != (self._caps and plain.isalpha())
            self._add(shifted if upper else plain)
        else:
            self._unknown += 1
        return None

    def feed_all(self, events: Iterable[KeyEvent]) -> Iterator[Barcode]:
        for type_, code, value in events:
            barcode = self.feed(type_, code, value)
            if barcode is not None:
                yield barcode

    def _add(self, ch: str) -> None:
        if len(self._chars) < self._max:
            self._chars.append(ch)
        else:
            self._unknown += 1

    def _finish(self) -> Barcode | None:
        barcode = Barcode("".join(self._chars), self._unknown)
        self._chars, self._unknown = [], 0
        return barcode if barcode.text or barcode.garbled else None

    def _reset(self, dropped: bool) -> None:
        if dropped and (self._chars or self._unknown):
            self.dropped_reads += 1
        self._chars, self._unknown = [], 0
        self._shift.clear()
        self._ctrl.clear()
        self._dropping = dropped


def _tap(code: int) -> list[KeyEvent]:
    syn = (ecodes.EV_SYN, ecodes.SYN_REPORT, 0)
    return [(ecodes.EV_KEY, code, 1), syn, (ecodes.EV_KEY, code, 0), syn]


def _hold(modifier: int, inner: list[KeyEvent]) -> list[KeyEvent]:
    syn = (ecodes.EV_SYN, ecodes.SYN_REPORT, 0)
    return [(ecodes.EV_KEY, modifier, 1), syn, *inner, (ecodes.EV_KEY, modifier, 0), syn]


def encode_text(text: str, enter: bool = True) -> list[KeyEvent]:
    """The key events a US-layout wedge reader types for `text` (GS as Ctrl+])."""
    events: list[KeyEvent] = []
    for ch in text:
        if ch == GS:
            events += _hold(ecodes.KEY_LEFTCTRL, _tap(ecodes.KEY_RIGHTBRACE))
            continue
        if ch not in _TYPED:
            raise ValueError(f"{ch!r} cannot be typed on a US layout")
        code, shift = _TYPED[ch]
        events += _hold(ecodes.KEY_LEFTSHIFT, _tap(code)) if shift else _tap(code)
    if enter:
        events += _tap(ecodes.KEY_ENTER)
    return events


def pack_events(events: Iterable[KeyEvent], when: float | None = None) -> bytes:
    """Events as raw `struct input_event` records (the bytes /dev/input/event* yields)."""
    t = time.time() if when is None else when
    sec, usec = int(t), int((t % 1) * 1_000_000)
    return b"".join(EVENT.pack(sec, usec, ty, code, value) for ty, code, value in events)


def unpack_events(data: bytes) -> list[KeyEvent]:
    """Whole records from `data` (a length that is a multiple of 24) as (type, code, value)."""
    return [(ty, code, value) for _, _, ty, code, value in EVENT.iter_unpack(data)]


def write_input_events(target: str | BinaryIO, events: Iterable[KeyEvent]) -> None:
    """Write `events` as raw records to a path (file or FIFO) or an open binary file."""
    data = pack_events(events)
    if isinstance(target, str):
        with open(target, "wb") as fh:
            fh.write(data)
    else:
        target.write(data)
        target.flush()
