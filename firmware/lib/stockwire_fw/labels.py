"""The scanner's label grammar (docs/protocol.md §1): the state workers steer with SW: labels.

Owns: mode / location / reference / one-shot quantity, and the verdict for each read:
  ("state", None)      a label changed the state
  ("event", fields)    an item (or count close) to send: mode, loc, ref, qty, code, sym
  ("error", reason)    refused on the scanner; the state is unchanged
Pure: strings in, tuples out. tests/vectors/labels.json is the specification.
"""

from micropython import const

MODES = ("receive", "pick", "return", "count", "transfer-out", "transfer-in")
MAX_QTY = const(999999)
MAX_FIELD = const(64)

STATE = "state"
EVENT = "event"
ERROR = "error"


def split_aim(code):
    """(sym, rest): sym is the AIM prefix (']' + 2 chars) when there is one, else ''."""
    if len(code) >= 3 and code[0] == "]":
        return code[:3], code[3:]
    return "", code


def _qty(text):
    if not text or len(text) > 6:
        return 0
    for ch in text:
        if ch < "0" or ch > "9":
            return 0
    n = int(text)
    return n if 1 <= n <= MAX_QTY else 0


class Labels:
    def __init__(self):
        self.mode = ""
        self.loc = ""
        self.ref = ""
        self.qty = 1

    def read(self, code):
        sym, body = split_aim(code)
        if body.startswith("SW:"):
            return self._label(code, sym, body[3:])
        if not self.mode:
            return ERROR, "scan a mode label first"
        if not self.loc:
            return ERROR, "scan a location label first"
        return EVENT, self._event(self.mode, code, sym)

    def _event(self, mode, code, sym):
        ev = {
            "mode": mode,
            "loc": self.loc,
            "ref": self.ref,
            "qty": self.qty,
            "code": code,
            "sym": sym,
        }
        self.qty = 1
        return ev

    def _label(self, code, sym, rest):
        if rest.startswith("MODE:"):
            mode = rest[5:]
            if mode not in MODES:
                return ERROR, "unknown mode"
            self.mode = mode
            self.ref = ""
            self.qty = 1
            return STATE, None
        if rest.startswith("LOC:"):
            loc = rest[4:]
            if not loc or len(loc) > MAX_FIELD:
                return ERROR, "bad location"
            self.loc = loc
            return STATE, None
        if rest.startswith("REF:"):
            ref = rest[4:]
            if not ref or len(ref) > MAX_FIELD:
                return ERROR, "bad reference"
            self.ref = ref
            return STATE, None
        if rest.startswith("QTY:"):
            n = _qty(rest[4:])
            if not n:
                return ERROR, "bad quantity"
            self.qty = n
            return STATE, None
        if rest == "CLOSE":
            if self.mode != "count":
                return ERROR, "not counting"
            if not self.ref:
                return ERROR, "scan a count reference first"
            if not self.loc:
                return ERROR, "scan a location label first"
            self.qty = 1
            return EVENT, self._event("count-close", code, sym)
        return ERROR, "unknown label"

    def state(self):
        return {"mode": self.mode, "loc": self.loc, "ref": self.ref, "qty": self.qty}
