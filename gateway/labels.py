"""The scanner label grammar (protocol §1), as a pure state machine.

Owns: what a read does to the (mode, loc, ref, qty) state and when it becomes a scan event.
The firmware implements the same machine in MicroPython; both pass tests/vectors/labels.json.
No I/O here: the dock reader drives it with decoded barcodes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

LABEL_MODES = ("receive", "pick", "return", "count", "transfer-out", "transfer-in")
MAX_QTY = 999_999
MAX_FIELD = 64
_PREFIX = "SW:"


@dataclass(frozen=True, slots=True)
class LabelState:
    """What the next item read will be booked as."""

    mode: str = ""
    loc: str = ""
    ref: str = ""
    qty: int = 1


@dataclass(frozen=True, slots=True)
class Item:
    """A read that becomes one scan event (the fields the wire event takes from the state)."""

    code: str
    sym: str
    mode: str
    loc: str
    ref: str
    qty: int


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one read: the new state, and an item or an error (never both)."""

    state: LabelState
    item: Item | None = None
    error: str = ""


def split_aim(code: str) -> tuple[str, str]:
    """(AIM prefix or "", the rest): `]C1...` -> ("]C1", "...")."""
    if len(code) >= 3 and code[0] == "]":
        return code[:3], code[3:]
    return "", code


def read(state: LabelState, code: str) -> Step:
    """Apply one read to `state`. Errors leave the state unchanged."""
    sym, text = split_aim(code)
    if not text.startswith(_PREFIX):
        return _item(state, code, sym)
    body = text[len(_PREFIX) :]
    kind, _, value = body.partition(":")
    if kind == "MODE":
        if value not in LABEL_MODES:
            return Step(state, error="unknown mode")
        return Step(replace(state, mode=value, ref="", qty=1))
    if kind == "LOC":
        if not value or len(value) > MAX_FIELD:
            return Step(state, error="bad location")
        return Step(replace(state, loc=value))
    if kind == "REF":
        if not value or len(value) > MAX_FIELD:
            return Step(state, error="bad reference")
        return Step(replace(state, ref=value))
    if kind == "QTY":
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_QTY:
            return Step(state, error="bad quantity")
        return Step(replace(state, qty=int(value)))
    if body == "CLOSE":
        if state.mode != "count":
            return Step(state, error="not counting")
        if not state.ref:
            return Step(state, error="scan a count reference first")
        if not state.loc:
            return Step(state, error="scan a location label first")
        close = Item("SW:CLOSE", "", "count-close", state.loc, state.ref, 1)
        return Step(replace(state, qty=1), item=close)
    return Step(state, error="unknown label")


def _item(state: LabelState, code: str, sym: str) -> Step:
    if not state.mode:
        return Step(state, error="scan a mode label first")
    if not state.loc:
        return Step(state, error="scan a location label first")
    item = Item(code, sym, state.mode, state.loc, state.ref, state.qty)
    return Step(replace(state, qty=1), item=item)
