"""The retained config document on config/<dev> (docs/protocol.md §2): the keys the scanner
takes from the gateway and their ranges.

parse() refuses a whole document for one unknown key or a value of the wrong type or range
(nothing of it is applied); `t` is the gateway's clock (ms since the Unix epoch). apply()
puts a good one into the scanner's running config, the trigger's timings included (the next
gesture uses them). Loaded only while a document is applied
(app._call), so none of this stays in the heap.
"""

import json

# whole numbers, lowest and highest; and battery_cal: [gain 0.5..1.5, offset_mv -500..500]
_KEYS = ("heartbeat_s", "resend_s", "volume", "low_battery_mv", "long_ms", "double_ms", "t")
_LO = (1, 1, 0, 2500, 100, 50, 1600000000000)
_HI = (3600, 3600, 3, 4200, 10000, 2000, 1 << 53)


def _ok(k, v):
    if k == "battery_cal":
        return (
            isinstance(v, list)
            and len(v) == 2
            and type(v[0]) in (int, float)
            and 0.5 <= v[0] <= 1.5
            and type(v[1]) is int
            and -500 <= v[1] <= 500
        )
    i = _KEYS.index(k) if k in _KEYS else -1
    return i >= 0 and type(v) is int and _LO[i] <= v <= _HI[i]


def parse(payload):
    """(doc, "") for a good document, else (None, the first bad key, or "json")."""
    try:
        doc = json.loads(payload) if len(payload) < 512 else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return None, "json"
    for k in doc:
        if not _ok(k, doc[k]):
            return None, k
    return doc, ""


def apply(sc, payload, retained):
    """Apply a config/<dev> document to the Scanner `sc`: all of it, or nothing of a bad one.
    Its `t` sets the clock only when it came live (the gateway's answer to this connect),
    never from the broker's retained copy, which is as old as its last publish."""
    doc, bad = parse(payload)
    hal = sc.hal
    if doc is None:
        hal.signal("error", "bad config: " + bad)
        return
    cfg = sc.cfg
    t = doc.pop("t", 0)
    keys = [k for k in doc if cfg.get(k) != doc[k]]
    cfg.update(doc)
    sc.heartbeat_s = cfg.get("heartbeat_s", sc.heartbeat_s)
    sc.resend_s = cfg.get("resend_s", sc.resend_s)
    g = getattr(hal, "gestures", None)  # the board's trigger timings (trigger.Gestures)
    if g is not None:
        g.long = cfg.get("long_ms", g.long)
        g.double = cfg.get("double_ms", g.double)
    if t and not retained:
        hal.set_ms(t)
        keys.append("t")
    if keys:
        hal.signal("config", keys)
