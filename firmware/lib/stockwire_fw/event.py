"""The scan event on the wire (docs/protocol.md §2) and the ack payload the gateway sends back.

Owns: the exact JSON of a scan event, keys in the contract's order (v, dev, seq, boot, ts,
code, sym, mode, qty, loc, ref), built by hand because MicroPython dicts do not keep order;
and parsing an ack into (status, ranges, reason). Pure.
"""

import json

from micropython import const

VERSION = const(1)
MAX_PAYLOAD = const(4096)


def encode_scan(dev, seq, boot, ts, code, sym, mode, qty, loc, ref):
    d = json.dumps
    return (
        '{"v":1,"dev":%s,"seq":%d,"boot":%d,"ts":%d,"code":%s,"sym":%s,"mode":%s,'
        '"qty":%d,"loc":%s,"ref":%s}'
        % (d(dev), seq, boot, ts, d(code), d(sym), d(mode), qty, d(loc), d(ref))
    ).encode()


def encode_status(fw, bat_mv, rssi, outbox, uptime, boot, seq):
    return (
        '{"online":true,"fw":%s,"bat_mv":%d,"rssi":%d,"outbox":%d,"uptime":%d,"boot":%d,'
        '"seq":%d}' % (json.dumps(fw), bat_mv, rssi, outbox, uptime, boot, seq)
    ).encode()


OFFLINE = b'{"online":false}'

ACK_STATUSES = ("stored", "booked", "refused")


def decode_ack(payload):
    """(status, [[first, last], ...], reason, display) or None if it is not a valid ack."""
    if len(payload) > MAX_PAYLOAD:
        return None
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeError):
        return None
    if not isinstance(doc, dict):
        return None
    status = doc.get("status")
    seqs = doc.get("seqs")
    if status not in ACK_STATUSES or not isinstance(seqs, list):
        return None
    ranges = []
    for r in seqs:
        if (
            not isinstance(r, list)
            or len(r) != 2
            or not isinstance(r[0], int)
            or not isinstance(r[1], int)
            or r[0] < 1
            or r[1] < r[0]
        ):
            return None
        ranges.append(r)
    reason = doc.get("reason", "")
    display = doc.get("display", "")
    return (
        status,
        ranges,
        reason if isinstance(reason, str) else "",
        display if isinstance(display, str) else "",
    )
