"""The scanner's label grammar (docs/protocol.md §1): the state workers steer with SW: labels.

Owns: mode / location / reference / one-shot quantity, and the verdict for each read:
  ("state", None)                 a label changed the state
  ("event", (mode, loc, ref, qty)) an item (or count close) to send with the read's code
  ("error", reason)               refused on the scanner; the state is unchanged
Pure: strings in, tuples out. tests/vectors/labels.json is the specification.
"""

from micropython import const

MODES = ("receive", "pick", "return", "count", "transfer-out", "transfer-in")
_MAX_QTY = const(999999)
_MAX_FIELD = const(64)

STATE = "state"
EVENT = "event"
ERROR = "error"


def split_aim(code):
    """(sym, rest): sym is the AIM prefix (']' + 2 chars) when there is one, else ''."""
    if len(code) >= 3 and code[0] == "]":
        return code[:3], code[3:]
    return "", code


def aim_len(frame):
    """Bytes of the AIM prefix (']' and two characters) the UTF-8 bytes `frame` start with."""
    n = len(frame)
    i = 1 if n and frame[0] == 0x5D else n + 9
    for _ in range(2):
        i += 1
        while i < n and frame[i] & 0xC0 == 0x80:
            i += 1
    return i if i <= n else 0


def is_label(frame):
    """Whether the read's bytes are a label (only a label needs to be read as text)."""
    return frame.startswith(b"SW:", aim_len(frame))


class Labels:
    def __init__(self):
        self.mode = self.loc = self.ref = ""
        self.qty = 1

    def read(self, code):
        body = split_aim(code)[1]
        if not body.startswith("SW:"):
            return self.item()
        rest = body[3:]
        val = rest[rest.find(":") + 1 :]
        if rest.startswith("MODE:"):
            if val not in MODES:
                return ERROR, "unknown mode"
            self.mode = val
            self.ref = ""
            self.qty = 1
        elif rest.startswith("LOC:") or rest.startswith("REF:"):
            if not val or len(val) > _MAX_FIELD:
                return ERROR, "bad location" if rest[0] == "L" else "bad reference"
            if rest[0] == "L":
                self.loc = val
            else:
                self.ref = val
        elif rest.startswith("QTY:"):
            if not (0 < len(val) < 7 and val.isdigit() and 0 < int(val) <= _MAX_QTY):
                return ERROR, "bad quantity"
            self.qty = int(val)
        elif rest == "CLOSE":
            if self.mode != "count":
                return ERROR, "not counting"
            if not self.ref:
                return ERROR, "scan a count reference first"
            return self._event("count-close", 1)
        else:
            return ERROR, "unknown label"
        return STATE, None

    def item(self):
        """The verdict for a read that is not a label (what read() answers for it)."""
        return self._event(self.mode, self.qty)

    def _event(self, mode, qty):
        if not self.mode:
            return ERROR, "scan a mode label first"
        if not self.loc:
            return ERROR, "scan a location label first"
        self.qty = 1
        return EVENT, (mode, self.loc, self.ref, qty)
