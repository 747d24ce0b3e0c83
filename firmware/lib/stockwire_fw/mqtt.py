"""A small non-blocking MQTT 3.1.1 client for asyncio (QoS 0/1); no reconnection policy.

Owns one session over one stream: CONNECT (credentials, will), QoS1 PUBLISH with PUBACK
tracking, SUBSCRIBE, PINGREQ when idle, PUBACK for incoming QoS1, and failure detection.
"""

# Every operation is bounded by `timeout_ms`: on a dead link publish() returns False and
# connect()/subscribe() raise MQTTError in time, the session is marked lost (`lost` event,
# `reason`) and the stream closed. Reconnecting is the caller's job (app.py, retry.py). One
# operation (connect, subscribe, publish) at a time: the caller sends from one task. The
# stream comes from an injected `opener(host, port) -> (reader, writer)`, by default
# asyncio.open_connection; packets are built by mqttpkt.py.

import asyncio
import struct
import time

from micropython import const

from .mqttpkt import connect_packet, puback_packet, publish_header, subscribe_packet

_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBACK = const(0x90)
_MAX_IN = const(8192)


class MQTTError(Exception):
    pass


class Client:
    def __init__(
        self,
        client_id,
        user=None,
        password=None,
        keepalive=30,
        will=None,
        timeout_ms=3000,
        on_message=None,
        opener=None,
    ):
        self._hello = connect_packet(client_id, user, password, keepalive, will)
        self.keepalive = keepalive
        self.timeout_ms = timeout_ms
        self.on_message = on_message  # on_message(topic: str, payload: bytes)
        self._opener = opener or asyncio.open_connection
        self._r = self._w = None
        self._tasks: tuple = ()
        self._pid = self._want = self._suback = self._rx = self._tx = 0
        self._acked = asyncio.Event()
        self._wlock = asyncio.Lock()  # one writer on the stream
        self.lost = asyncio.Event()
        self.up = False
        self.reason = ""
        self.retained = 0  # the retain flag of the message on_message is handling

    # ---- session ---------------------------------------------------------------------------

    async def connect(self, host, port):
        """Open the stream and complete CONNECT/CONNACK within the timeout, or MQTTError."""
        self.lost = asyncio.Event()
        self.reason = ""
        try:
            await asyncio.wait_for_ms(self._connect(host, port), self.timeout_ms)
        except asyncio.TimeoutError:
            await self._close()
            raise MQTTError("connect timeout")
        except (OSError, MQTTError, EOFError) as e:
            await self._close()
            raise MQTTError("connect: %r" % (e,))
        self.up = True
        self._rx = self._tx = time.ticks_ms()
        self._tasks = (asyncio.create_task(self._reader()), asyncio.create_task(self._pinger()))

    async def _connect(self, host, port):
        self._r, self._w = await self._opener(host, port)
        await self._send(self._hello)
        t, body = await self._read_packet()
        if t != _CONNACK or len(body) != 2:
            raise MQTTError("expected CONNACK, got 0x%02x" % t)
        if body[1]:
            raise MQTTError("refused, code %d" % body[1])

    async def _read_packet(self):
        r = self._r
        t = (await r.readexactly(1))[0]
        n = shift = 0
        while True:
            c = (await r.readexactly(1))[0]
            n |= (c & 0x7F) << shift
            if not c & 0x80:
                break
            shift += 7
            if shift > 21:
                raise MQTTError("bad length")
        if n > _MAX_IN:
            raise MQTTError("packet too large")
        return t, (await r.readexactly(n) if n else b"")

    async def _send(self, head, payload=None):
        async with self._wlock:
            self._w.write(head)
            if payload:
                self._w.write(payload)
            await self._w.drain()
            self._tx = time.ticks_ms()

    def _fail(self, reason):
        if self.up or not self.lost.is_set():
            self.up = False
            self.reason = reason
            self.lost.set()
            asyncio.create_task(self._close())

    async def _close(self):
        self.up = False
        me = asyncio.current_task()
        for t in self._tasks:
            if t is not me:
                t.cancel()
        self._tasks = ()
        w = self._w
        self._r = self._w = None
        if w is not None:
            try:
                await w.wait_closed()
            except OSError:
                pass

    async def disconnect(self):
        if self.up:
            try:
                await asyncio.wait_for_ms(self._send(b"\xe0\x00"), self.timeout_ms)
            except Exception:
                pass
        self.up = False
        self.lost.set()
        await self._close()

    # ---- background ------------------------------------------------------------------------

    async def _reader(self):
        try:
            while True:
                t, body = await self._read_packet()
                self._rx = time.ticks_ms()
                kind = t & 0xF0
                if kind == _PUBACK and len(body) == 2:
                    if struct.unpack("!H", body)[0] == self._want:
                        self._acked.set()
                elif kind == _PUBLISH:
                    await self._incoming(t, body)
                elif kind == _SUBACK and len(body) >= 3:
                    if struct.unpack_from("!H", body, 0)[0] == self._suback and body[2] != 0x80:
                        self._acked.set()
                # PINGRESP and anything else: only the receive time matters
        except asyncio.CancelledError:
            raise
        except Exception as e:  # EOF, OSError, bad packet
            self._fail("read: %r" % (e,))

    async def _incoming(self, t, body):
        qos = (t >> 1) & 3
        p = 2 + struct.unpack_from("!H", body, 0)[0]
        topic = str(body[2:p], "utf-8")
        pid = struct.unpack_from("!H", body, p)[0] if qos else 0
        self.retained = t & 1  # the broker's stored copy, sent at subscribe (not live)
        if self.on_message:
            try:
                self.on_message(topic, body[p + 2 if qos else p :])
            except Exception as e:  # the app's bug must not kill the session
                print("on_message:", repr(e))
        if qos:
            await self._send(puback_packet(pid))

    async def _pinger(self):
        ka = self.keepalive * 1000
        try:
            while True:
                await asyncio.sleep_ms(ka // 4 if ka else 60000)
                if not ka:
                    continue
                now = time.ticks_ms()
                if time.ticks_diff(now, self._rx) > ka + ka // 2:
                    self._fail("keepalive timeout")
                    return
                if time.ticks_diff(now, self._tx) >= ka // 2:
                    await asyncio.wait_for_ms(self._send(b"\xc0\x00"), self.timeout_ms)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._fail("ping: %r" % (e,))

    # ---- operations ------------------------------------------------------------------------

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    async def _request(self, head, payload, wait):
        self._acked.clear()
        await self._send(head, payload)
        if wait:
            await self._acked.wait()

    async def publish(self, topic, payload, qos=1, retain=False):
        """Send; for QoS1 wait for the PUBACK. True when done, False (link now marked lost)
        when it could not be done within the timeout."""
        if not self.up:
            return False
        pid = self._want = self._next_pid() if qos else 0
        try:
            await asyncio.wait_for_ms(
                self._request(publish_header(topic, len(payload), pid, qos, retain), payload, qos),
                self.timeout_ms,
            )
            return True
        except asyncio.TimeoutError:
            self._fail("publish timeout")
        except Exception as e:
            self._fail("publish: %r" % (e,))
        return False

    async def subscribe(self, topic, qos=1):
        """SUBSCRIBE and wait for a granted SUBACK; MQTTError on failure or timeout."""
        if not self.up:
            raise MQTTError("not connected")
        self._want = 0
        pid = self._suback = self._next_pid()
        try:
            await asyncio.wait_for_ms(
                self._request(subscribe_packet(pid, topic, qos), None, 1), self.timeout_ms
            )
        except asyncio.TimeoutError:
            self._fail("subscribe timeout")
            raise MQTTError("subscribe timeout")
