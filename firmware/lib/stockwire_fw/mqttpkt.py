"""MQTT 3.1.1 packet encoding (the client's pure half): exact bytes, tested over a fake stream."""

import struct


def _varlen(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return out


def _str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def connect_packet(client_id, user=None, password=None, keepalive=30, will=None, clean=True):
    """`will` is (topic, message, retain, qos) or None."""
    flags = 0x02 if clean else 0
    payload = _str(client_id)
    if will:
        topic, msg, retain, qos = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += _str(topic) + _str(msg)
    if user is not None:
        flags |= 0x80
        payload += _str(user)
        if password is not None:
            flags |= 0x40
            payload += _str(password)
    var = b"\x00\x04MQTT\x04" + bytes((flags,)) + struct.pack("!H", keepalive)
    return b"\x10" + _varlen(len(var) + len(payload)) + var + payload


def publish_header(topic, payload_len, pid=0, qos=1, retain=False):
    """Everything of a PUBLISH packet before its payload."""
    t = _str(topic)
    head = bytes((0x30 | (qos << 1) | (1 if retain else 0),)) + _varlen(
        len(t) + payload_len + (2 if qos else 0)
    )
    return head + t + struct.pack("!H", pid) if qos else head + t


def subscribe_packet(pid, topic, qos=1):
    body = struct.pack("!H", pid) + _str(topic) + bytes((qos,))
    return b"\x82" + _varlen(len(body)) + body


def puback_packet(pid):
    return struct.pack("!BBH", 0x40, 2, pid)
