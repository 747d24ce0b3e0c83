"""The scan event on the wire (docs/protocol.md §2) and the ack payload the gateway sends back.

Owns: the exact JSON of a scan event, keys in the contract's order (v, dev, seq, boot, ts,
code, sym, mode, qty, loc, ref), built by hand because MicroPython dicts do not keep order;
and parsing an ack into (status, ranges, reason, display). Pure.
A scan's JSON is made in one allocation, its code copied straight from the outbox record's
bytes: a 1000-byte code needs one block of its size, not four (text, dumps, message, encode).
"""

import json

from micropython import const

_MAX_PAYLOAD = const(4096)
_HEX = b"0123456789abcdef"
_SHORT = {34: 34, 92: 92, 10: 110, 13: 114, 9: 116}  # escaped as \" \\ \n \r \t
_STATUSES = ("stored", "booked", "refused", "retry")  # retry: not taken, keep and re-send
OFFLINE = b'{"online":false}'


def _quoted(s, out, p):
    """UTF-8 bytes `s` as a JSON string, escaped as MicroPython's json.dumps escapes, written
    into `out` at `p` (only measured when `out` is None); returns the position after it."""
    w = out is not None
    if w:
        out[p] = 34
    p += 1
    for c in s:
        if c >= 32 and c != 34 and c != 92:
            if w:
                out[p] = c
            p += 1
        elif c in _SHORT:
            if w:
                out[p] = 92
                out[p + 1] = _SHORT[c]
            p += 2
        else:
            if w:
                out[p : p + 4] = b"\\u00"
                out[p + 4] = _HEX[c >> 4]
                out[p + 5] = _HEX[c & 15]
            p += 6
    if w:
        out[p] = 34
    return p + 1


def encode_scan(dev, seq, boot, ts, code, sym, mode, qty, loc, ref):
    """The event as one bytearray; `code` is a str or UTF-8 bytes (a memoryview: not copied)."""
    d = json.dumps
    head = ('{"v":1,"dev":%s,"seq":%d,"boot":%d,"ts":%d,"code":' % (d(dev), seq, boot, ts)).encode()
    tail = (
        ',"sym":%s,"mode":%s,"qty":%d,"loc":%s,"ref":%s}' % (d(sym), d(mode), qty, d(loc), d(ref))
    ).encode()
    if isinstance(code, str):
        code = code.encode()
    n = len(head)
    end = _quoted(code, None, n)
    out = bytearray(end + len(tail))
    out[:n] = head
    _quoted(code, out, n)
    out[end:] = tail
    return out


def encode_status(fw, bat_mv, rssi, outbox, uptime, boot, seq):
    return (
        '{"online":true,"fw":"%s","bat_mv":%d,"rssi":%d,"outbox":%d,"uptime":%d,"boot":%d,'
        '"seq":%d}' % (fw, bat_mv, rssi, outbox, uptime, boot, seq)
    ).encode()


def decode_ack(payload):
    """(status, [[first, last], ...], reason, display) or None if it is not a valid ack."""
    if len(payload) > _MAX_PAYLOAD:
        return None
    try:
        doc = json.loads(payload)
        status = doc.get("status")
        seqs = doc.get("seqs")
        reason = doc.get("reason", "")
        display = doc.get("display", "")
    except (ValueError, UnicodeError, AttributeError):  # not JSON, not an object
        return None
    if status not in _STATUSES or not isinstance(seqs, list):
        return None
    for r in seqs:
        if not (
            isinstance(r, list)
            and len(r) == 2
            and isinstance(r[0], int)
            and isinstance(r[1], int)
            and 0 < r[0] <= r[1]
        ):
            return None
    return (
        status,
        seqs,
        reason if isinstance(reason, str) else "",
        display if isinstance(display, str) else "",
    )
