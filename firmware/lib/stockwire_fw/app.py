"""The scanner application: reads in, scans durably out, acks back, outcomes to the worker.

Owns the scanner's rules, independent of the hardware (a HAL object is handed in) and of the
network (an MQTT client is handed in):
- every read goes through the label grammar (labels.py); an item gets the next seq, is written
  to the outbox FIRST and only then beeps "taken", then is published QoS1 on scan/<dev>;
- unacked outbox entries are (re)published oldest first after every (re)connect and every
  `resend_s` seconds;
- an ack on ack/<dev> covering seq ranges drops them from the outbox (stored, refused and
  booked all mean the gateway holds or has judged the scan) and tells the worker the outcome;
- a retained heartbeat on status/<dev> every `heartbeat_s` seconds; last will {"online":false}.
The HAL interface: read_frame() (awaitable: bytes, or None for a refused over-long read),
signal(kind, *args), now_ms(), battery_mv(), rssi(), network_up() (awaitable), feedback.
"""

import asyncio
import time

from . import VERSION
from .event import OFFLINE, decode_ack, encode_scan, encode_status
from .labels import ERROR, EVENT, Labels
from .mqtt import Client, MQTTError
from .outbox import OutboxFull
from .retry import Backoff

TOPIC_ROOT = "stockwire/v1"


class Scanner:
    def __init__(self, cfg, hal, outbox, client=None):
        self.dev = cfg["dev"]
        self.site = cfg["site"]
        self.hal = hal
        self.outbox = outbox
        self.labels = Labels()
        m = cfg["mqtt"]
        self._host = m.get("host", "127.0.0.1")
        self._port = m.get("port", 1883)
        base = "%s/%s/" % (TOPIC_ROOT, self.site)
        self.t_scan = base + "scan/" + self.dev
        self.t_ack = base + "ack/" + self.dev
        self.t_status = base + "status/" + self.dev
        self.heartbeat_s = cfg.get("heartbeat_s", 60)
        self.resend_s = cfg.get("resend_s", 15)
        self.client = client or Client(
            m.get("client_id", self.dev),
            m.get("user", self.dev),
            m.get("password"),
            keepalive=m.get("keepalive", 30),
            will=(self.t_status, OFFLINE, True, 1),
            timeout_ms=m.get("timeout_ms", 3000),
        )
        self.client.on_message = self.on_message
        self.backoff = Backoff(m.get("backoff_ms", 250), m.get("backoff_cap_ms", 30000))
        self._wake = asyncio.Event()
        self._cursor = 0  # highest seq published on the current connection
        self._t0 = time.ticks_ms()

    # ---- reads -----------------------------------------------------------------------------

    def handle_read(self, frame):
        """One frame from the engine -> label change, local error, or a durable scan."""
        hal = self.hal
        if frame is None:
            hal.signal("error", "read too long")
            return None
        try:
            code = frame.decode()
        except UnicodeError:
            hal.signal("error", "unreadable code")
            return None
        ob = self.outbox
        kind, val = self.labels.read(code)
        if kind == ERROR:
            hal.signal("error", val)
            return None
        if kind != EVENT:
            hal.signal("label", self.labels)
            return None
        if ob.full():
            hal.signal("error", "outbox full")
            return None
        seq = ob.next_seq()
        try:
            ob.append(seq, hal.now_ms(), val["mode"], val["qty"], val["loc"], val["ref"], code)
        except (OSError, OutboxFull, ValueError) as e:
            hal.signal("error", "not stored: %s" % (e,))
            return None
        hal.signal("taken", seq)
        self._wake.set()
        return seq

    async def _reads(self):
        while True:
            try:
                self.handle_read(await self.hal.read_frame())
            except MemoryError:
                self.hal.signal("error", "out of memory")

    # ---- acks ------------------------------------------------------------------------------

    def on_message(self, topic, payload):
        if topic != self.t_ack:
            return
        ack = decode_ack(payload)
        if ack is None:
            self.hal.signal("error", "bad ack")
            return
        status, ranges, reason, display = ack
        self.outbox.ack(ranges)
        self.hal.signal(status, ranges, reason or display)

    # ---- network ---------------------------------------------------------------------------

    def payload(self, off):
        seq, boot, ts, qty, mode, code, loc, ref = self.outbox.load(off)
        sym = code[:3] if len(code) >= 3 and code[0] == "]" else ""
        return encode_scan(self.dev, seq, boot, ts, code, sym, mode, qty, loc, ref)

    async def _sender(self):
        c = self.client
        ob = self.outbox
        while True:
            await self._wake.wait()
            self._wake.clear()
            while c.up:
                nxt = ob.after(self._cursor)
                if nxt is None:
                    break
                seq, off = nxt
                t0 = time.ticks_ms()
                if not await c.publish(self.t_scan, self.payload(off), 1):
                    self.hal.signal("timeout", seq, time.ticks_diff(time.ticks_ms(), t0))
                    break
                if self._cursor < seq:
                    self._cursor = seq

    async def _resender(self):
        while True:
            await asyncio.sleep(self.resend_s)
            if self.outbox.depth:
                self._cursor = 0
                self._wake.set()

    def status(self):
        return encode_status(
            VERSION,
            self.hal.battery_mv(),
            self.hal.rssi(),
            self.outbox.depth,
            time.ticks_diff(time.ticks_ms(), self._t0) // 1000,
            self.outbox.boot,
            self.outbox.last_seq,
        )

    async def _heartbeat(self):
        while True:
            await asyncio.sleep(self.heartbeat_s)
            if self.client.up:
                await self.client.publish(self.t_status, self.status(), 1, True)

    async def _link(self):
        c = self.client
        while True:
            try:
                await self.hal.network_up()
                await c.connect(self._host, self._port)
                await c.subscribe(self.t_ack, 1)
            except (MQTTError, OSError) as e:
                self.hal.signal("offline", str(e))
                await asyncio.sleep_ms(self.backoff.next_ms())
                continue
            self.backoff.reset()
            self.hal.signal("connected")
            await c.publish(self.t_status, self.status(), 1, True)
            self._cursor = 0  # resend everything unacked, oldest first
            self._wake.set()
            await c.lost.wait()
            self.hal.signal("offline", c.reason)
            await asyncio.sleep_ms(self.backoff.next_ms())

    def start(self):
        """Create the tasks; return them (run them with asyncio)."""
        return [
            asyncio.create_task(f())
            for f in (self._reads, self._link, self._sender, self._resender, self._heartbeat)
        ]


async def run(cfg, hal, outbox):
    scanner = Scanner(cfg, hal, outbox)
    hal.signal("ready", scanner)
    tasks = scanner.start()
    await asyncio.gather(*tasks)
