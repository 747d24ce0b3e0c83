"""The scan event on the wire (docs/protocol.md §2) and the ack payload the gateway sends back.

Owns: the exact JSON of a scan event, keys in the contract's order (v, dev, seq, boot, ts,
code, sym, mode, qty, loc, ref), built by hand because MicroPython dicts do not keep order;
and parsing an ack into (status, ranges, reason, display). Pure.
"""

import json

from micropython import const

_MAX_PAYLOAD = const(4096)
_STATUSES = ("stored", "booked", "refused", "retry")  # retry: not taken, keep and re-send
OFFLINE = b'{"online":false}'


def encode_scan(dev, seq, boot, ts, code, sym, mode, qty, loc, ref):
    d = json.dumps
    return (
        '{"v":1,"dev":%s,"seq":%d,"boot":%d,"ts":%d,"code":%s,"sym":%s,"mode":%s,'
        '"qty":%d,"loc":%s,"ref":%s}'
        % (d(dev), seq, boot, ts, d(code), d(sym), d(mode), qty, d(loc), d(ref))
    ).encode()


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
