"""MQTT packets, exact bytes, and the client's session over a fake stream."""

import asyncio
import time

from stockwire_fw.mqtt import Client, MQTTError
from stockwire_fw.mqttpkt import (
    connect_packet,
    puback_packet,
    publish_header,
    subscribe_packet,
)

from util import FakeStream, opener_for


def test_connect_bytes():
    got = connect_packet("hs-01", "hs-01", "pw", 30, ("s/t", b'{"online":false}', True, 1))
    assert got == (
        b"\x10\x33\x00\x04MQTT\x04\xee\x00\x1e"
        b"\x00\x05hs-01"
        b'\x00\x03s/t\x00\x10{"online":false}'
        b"\x00\x05hs-01\x00\x02pw"
    ), got
    assert connect_packet("c", keepalive=0) == b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x01c"


def test_publish_subscribe_puback_bytes():
    assert publish_header("a/b", 3, pid=1) == b"\x32\x0a\x00\x03a/b\x00\x01"
    assert publish_header("a/b", 3, qos=0, retain=True) == b"\x31\x08\x00\x03a/b"
    assert publish_header("t", 200, pid=258)[:3] == b"\x32\xcd\x01"
    assert subscribe_packet(7, "x/y") == b"\x82\x08\x00\x07\x00\x03x/y\x01"
    assert puback_packet(258) == b"\x40\x02\x01\x02"


def _broker(stream, data):
    # a scripted broker: CONNACK for CONNECT, SUBACK for SUBSCRIBE, PUBACK for QoS1 PUBLISH
    t = data[0] & 0xF0
    if t == 0x10:
        stream.give(b"\x20\x02\x00\x00")
    elif t == 0x80:
        stream.give(b"\x90\x03" + data[2:4] + b"\x01")
    elif t == 0x30 and data[0] & 0x06:
        tl = data[2] << 8 | data[3]
        stream.give(b"\x40\x02" + data[4 + tl : 6 + tl])


async def test_session_publish_and_incoming():
    s = FakeStream()
    s.on_write = _broker
    got = []
    c = Client(
        "hs-01",
        "hs-01",
        "pw",
        keepalive=30,
        timeout_ms=500,
        on_message=lambda t, p: got.append((t, p)),
        opener=opener_for(s),
    )
    await c.connect("h", 1)
    assert c.up
    await c.subscribe("ack/hs-01")
    assert await c.publish("scan/hs-01", b"{}") is True
    assert bytes(s.sent).endswith(b"\x32\x10\x00\x0ascan/hs-01\x00\x02{}")
    s.sent[:] = b""
    s.on_write = None
    s.give(b"\x32\x0f\x00\x09ack/hs-01\x12\x34hi")  # incoming QoS1, pid 0x1234
    await asyncio.sleep_ms(20)
    assert got == [("ack/hs-01", b"hi")], got
    assert bytes(s.sent) == b"\x40\x02\x12\x34"
    await c.disconnect()


async def test_publish_on_dead_link_returns_within_timeout():
    s = FakeStream()
    s.on_write = _broker
    c = Client("hs-01", timeout_ms=300, opener=opener_for(s))
    await c.connect("h", 1)
    s.on_write = None  # the broker stops answering
    t0 = time.ticks_ms()
    ok = await c.publish("scan/hs-01", b"{}")
    dt = time.ticks_diff(time.ticks_ms(), t0)
    assert ok is False and 250 <= dt < 600, dt
    assert not c.up and c.lost.is_set() and c.reason == "publish timeout"
    assert await c.publish("scan/hs-01", b"{}") is False  # at once while down
    await asyncio.sleep_ms(10)
    assert s.closed


async def test_connect_timeout_and_refusal():
    s = FakeStream()
    c = Client("hs-01", timeout_ms=200, opener=opener_for(s))
    t0 = time.ticks_ms()
    try:
        await c.connect("h", 1)
        assert False
    except MQTTError as e:
        assert "timeout" in str(e)
    assert time.ticks_diff(time.ticks_ms(), t0) < 500
    s = FakeStream()
    s.on_write = lambda st, d: st.give(b"\x20\x02\x00\x05")  # not authorized
    c = Client("hs-01", timeout_ms=200, opener=opener_for(s))
    try:
        await c.connect("h", 1)
        assert False
    except MQTTError as e:
        assert "code 5" in str(e)
