"""MQTT 3.1.1 packet encoding (the client's pure half): exact bytes, tested over a fake stream.
"""

import struct

from micropython import const

CONNECT = const(0x10)
CONNACK = const(0x20)
PUBLISH = const(0x30)
PUBACK = const(0x40)
SUBSCRIBE = const(0x82)
SUBACK = const(0x90)
PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"


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
    return bytes((CONNECT,)) + _varlen(len(var) + len(payload)) + var + payload


def publish_header(topic, payload_len, pid=0, qos=1, retain=False, dup=False):
    """Everything of a PUBLISH packet before its payload."""
    t = _str(topic)
    first = PUBLISH | (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    n = len(t) + payload_len + (2 if qos else 0)
    head = bytes((first,)) + _varlen(n) + t
    return head + struct.pack("!H", pid) if qos else head


def subscribe_packet(pid, topic, qos=1):
    body = struct.pack("!H", pid) + _str(topic) + bytes((qos,))
    return bytes((SUBSCRIBE,)) + _varlen(len(body)) + body


def puback_packet(pid):
    return struct.pack("!BBH", PUBACK, 2, pid)
