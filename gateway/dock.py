"""The dock reader's key streams, as pure code: evdev key events <-> barcode text.

Owns decoding in a configurable keyboard layout (gateway/dock_layouts.py: us, uk, de, fr),
Shift, Caps Lock and AltGr, dead keys, the GS key (how a wedge reader sends FNC1: Ctrl+] by
default, any key combination by config), Enter as the end of a barcode, autorepeat ignored,
SYN_DROPPED flagging the read it falls in as an overrun, and unknown keys flagging a read as
garbled. Also the inverse (text -> events, for replay files, the tests and the demo) and the
64-bit Linux `struct input_event` record format.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from evdev import InputEvent, ecodes

from gateway.dock_layouts import LAYOUTS, Layout

GS = "\x1d"
EVENT = struct.Struct("llHHi")  # struct input_event on 64-bit Linux: 24 bytes
KeyEvent = tuple[int, int, int]  # (type, code, value)
DEFAULT_GS_KEY = "ctrl+KEY_RIGHTBRACE"

_MODIFIERS = {
    ecodes.KEY_LEFTSHIFT: "shift", ecodes.KEY_RIGHTSHIFT: "shift",
    ecodes.KEY_LEFTCTRL: "ctrl", ecodes.KEY_RIGHTCTRL: "ctrl",
    ecodes.KEY_LEFTALT: "alt", ecodes.KEY_RIGHTALT: "altgr",
}  # fmt: skip
_MOD_KEYS = {"shift": ecodes.KEY_LEFTSHIFT, "ctrl": ecodes.KEY_LEFTCTRL,
             "alt": ecodes.KEY_LEFTALT, "altgr": ecodes.KEY_RIGHTALT}  # fmt: skip
_IGNORED = frozenset((ecodes.KEY_NUMLOCK, ecodes.KEY_LEFTMETA, ecodes.KEY_RIGHTMETA))
_ENTER = frozenset((ecodes.KEY_ENTER, ecodes.KEY_KPENTER))


@dataclass(frozen=True, slots=True)
class KeyCombo:
    """A key pressed with exactly these modifiers held (the reader's GS substitute).

    Written `[modifier+...]KEY_NAME`: modifiers ctrl, shift, alt, altgr; the key an evdev key
    name, `KEY_` optional, any case: "ctrl+KEY_RIGHTBRACE" (Ctrl+] on a US keyboard, the
    default), "KEY_F8", "KEY_KPENTER", "ctrl+shift+2". Names are key positions, not
    characters, so a combination means the same keys whatever the layout.
    """

    code: int
    mods: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> KeyCombo:
        *mods, name = [part.strip() for part in text.split("+")] if text else [""]
        bare = name.upper().removeprefix("KEY_")
        code = getattr(ecodes, f"KEY_{bare}", None) if bare else None
        if not isinstance(code, int):
            raise ValueError(f"{text!r}: {name!r} is not an evdev key name")
        unknown = [m for m in mods if m.lower() not in _MOD_KEYS]
        if unknown:
            raise ValueError(f"{text!r}: modifiers are ctrl, shift, alt, altgr, not {unknown}")
        if code in _MODIFIERS:
            raise ValueError(f"{text!r}: a modifier key alone cannot stand for GS")
        combo = cls(code, frozenset(m.lower() for m in mods))
        if combo == cls(ecodes.KEY_ENTER):
            raise ValueError(f"{text!r}: Enter ends a barcode, it cannot stand for GS")
        return combo

    def events(self) -> list[KeyEvent]:
        inner = _tap(self.code)
        for mod in sorted(self.mods):
            inner = _hold(_MOD_KEYS[mod], inner)
        return inner


def layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown layout {name!r} (known: {', '.join(LAYOUTS)})") from None


@dataclass(frozen=True, slots=True)
class Barcode:
    """One read: the text typed before Enter, how many keys could not be understood, and
    whether input events were lost inside it (SYN_DROPPED: the kernel's buffer overflowed)."""

    text: str
    unknown_keys: int = 0
    overrun: bool = False

    @property
    def garbled(self) -> bool:
        return self.unknown_keys > 0


class KeyDecoder:
    """Feed (type, code, value) events one by one; `feed` returns a Barcode on Enter.

    After SYN_DROPPED the events up to the next SYN_REPORT are ignored and the read in
    progress (everything up to the next Enter, however much of it arrived) comes out flagged
    `overrun`: its text is missing keys, so it must not be booked.
    """

    def __init__(
        self, layout_name: str = "us", gs_key: str = DEFAULT_GS_KEY, max_chars: int = 4096
    ) -> None:
        self.layout = layout(layout_name)
        self.gs_key = KeyCombo.parse(gs_key)
        self._enter = _ENTER - {self.gs_key.code} if not self.gs_key.mods else _ENTER
        self._altgr = self.layout.has_altgr
        self._max = max_chars
        self._chars: list[str] = []
        self._unknown = 0
        self._held: dict[int, str] = {}
        self._caps = False
        self._dead = ""  # a dead key's character, waiting for the next key
        self._overrun = False
        self._dropping = False
        self.overruns = 0  # reads flagged after SYN_DROPPED

    def feed(self, type_: int, code: int, value: int) -> Barcode | None:
        if type_ == ecodes.EV_SYN:
            if code == ecodes.SYN_DROPPED:
                if not self._overrun:
                    self.overruns += 1
                self._overrun = self._dropping = True
                self._held.clear()  # releases may have been lost with the rest
            elif code == ecodes.SYN_REPORT:
                self._dropping = False
            return None
        if type_ != ecodes.EV_KEY or self._dropping:
            return None
        if code in _MODIFIERS:
            if value:
                self._held[code] = _MODIFIERS[code]
            else:
                self._held.pop(code, None)
            return None
        if value != 1:  # release (0) or autorepeat (2)
            return None
        mods = frozenset(self._held.values())
        if not self._altgr:
            mods -= {"altgr"}
        if code == self.gs_key.code and mods == self.gs_key.mods:
            self._flush_dead()
            self._add(GS)
        elif code in self._enter:
            return self._finish()
        elif code == ecodes.KEY_CAPSLOCK:
            self._caps = not self._caps
        elif code in _IGNORED:
            pass
        elif "ctrl" in mods or code not in self.layout.keys:
            self._unknown += 1
        else:
            self._type(code, mods)
        return None

    def feed_all(self, events: Iterable[KeyEvent]) -> Iterator[Barcode]:
        for type_, code, value in events:
            barcode = self.feed(type_, code, value)
            if barcode is not None:
                yield barcode

    def interrupt(self) -> Barcode | None:
        """End the read in progress without an Enter (the reader went away): the partial
        read, flagged `overrun`, or None when nothing was typed since the last Enter."""
        partial = self._chars or self._unknown or self._dead or self._overrun
        barcode = self._finish() if partial else None
        self._held.clear()
        self._dropping = False
        return Barcode(barcode.text, barcode.unknown_keys, True) if barcode else None

    def _type(self, code: int, mods: frozenset[str]) -> None:
        levels = self.layout.keys[code]
        if "altgr" in mods:
            level = 2
        else:
            shift = "shift" in mods
            plain, shifted = levels[0], levels[1]
            if self._caps and plain != shifted and plain.upper() == shifted:
                shift = not shift
            level = 1 if shift else 0
        ch = levels[level] if level < len(levels) else ""
        if not ch:
            self._unknown += 1
            return
        if self._dead:
            dead, self._dead = self._dead, ""
            self._add(dead)
            if ch == " ":  # dead key + space types the accent itself
                return
        if (code, level) in self.layout.dead:
            self._dead = ch
        else:
            self._add(ch)

    def _flush_dead(self) -> None:
        if self._dead:
            self._add(self._dead)
            self._dead = ""

    def _add(self, ch: str) -> None:
        if len(self._chars) < self._max:
            self._chars.append(ch)
        else:
            self._unknown += 1

    def _finish(self) -> Barcode | None:
        self._flush_dead()
        barcode = Barcode("".join(self._chars), self._unknown, self._overrun)
        self._chars, self._unknown, self._overrun = [], 0, False
        return barcode if barcode.text or barcode.garbled or barcode.overrun else None


def _tap(code: int) -> list[KeyEvent]:
    syn = (ecodes.EV_SYN, ecodes.SYN_REPORT, 0)
    return [(ecodes.EV_KEY, code, 1), syn, (ecodes.EV_KEY, code, 0), syn]


def _hold(modifier: int, inner: list[KeyEvent]) -> list[KeyEvent]:
    syn = (ecodes.EV_SYN, ecodes.SYN_REPORT, 0)
    return [(ecodes.EV_KEY, modifier, 1), syn, *inner, (ecodes.EV_KEY, modifier, 0), syn]


def _typing(lay: Layout) -> dict[str, tuple[int, int]]:
    """char -> (code, level): main keys before the keypad, plain before shift before AltGr,
    a dead key only where nothing else types the character."""
    found: dict[str, tuple[int, int]] = {}
    ranked = sorted(
        ((code, level, ch) for code, levels in lay.keys.items() for level, ch in enumerate(levels)),
        key=lambda t: ((t[0], t[1]) in lay.dead, t[0] in _KEYPAD, t[1], t[0]),
    )
    for code, level, ch in ranked:
        if ch:
            found.setdefault(ch, (code, level))
    return found


_KEYPAD = frozenset(c for n, c in vars(ecodes).items() if n.startswith("KEY_KP"))


def encode_text(
    text: str, enter: bool = True, layout_name: str = "us", gs_key: str = DEFAULT_GS_KEY
) -> list[KeyEvent]:
    """The key events a wedge reader set to `layout_name` types for `text` (GS as `gs_key`;
    a dead key followed by Space)."""
    lay = layout(layout_name)
    typing = _typing(lay)
    gs = KeyCombo.parse(gs_key)
    events: list[KeyEvent] = []
    for ch in text:
        if ch == GS:
            events += gs.events()
            continue
        if ch not in typing:
            raise ValueError(f"{ch!r} cannot be typed on the {layout_name} layout")
        code, level = typing[ch]
        tap = _tap(code)
        if level == 1:
            tap = _hold(ecodes.KEY_LEFTSHIFT, tap)
        elif level == 2:
            tap = _hold(ecodes.KEY_RIGHTALT, tap)
        events += tap
        if (code, level) in lay.dead:
            events += _tap(ecodes.KEY_SPACE)
    if enter:
        events += _tap(ecodes.KEY_ENTER)
    return events


def as_key_events(events: Iterable[InputEvent | KeyEvent]) -> list[KeyEvent]:
    """evdev.InputEvent objects (or tuples already) as (type, code, value)."""
    return [e if isinstance(e, tuple) else (e.type, e.code, e.value) for e in events]


def pack_events(events: Iterable[InputEvent | KeyEvent], when: float | None = None) -> bytes:
    """Events as raw `struct input_event` records (the bytes /dev/input/event* yields)."""
    t = time.time() if when is None else when
    sec, usec = int(t), int((t % 1) * 1_000_000)
    return b"".join(EVENT.pack(sec, usec, *ev) for ev in as_key_events(events))


def unpack_events(data: bytes) -> list[KeyEvent]:
    """Whole records from `data` (a length that is a multiple of 24) as (type, code, value)."""
    return [(ty, code, value) for _, _, ty, code, value in EVENT.iter_unpack(data)]


def write_input_events(target: str | BinaryIO, events: Iterable[InputEvent | KeyEvent]) -> None:
    """Write `events` as raw records to a path (file or FIFO) or an open binary file."""
    data = pack_events(events)
    if isinstance(target, str):
        with open(target, "wb") as fh:
            fh.write(data)
    else:
        target.write(data)
        target.flush()
