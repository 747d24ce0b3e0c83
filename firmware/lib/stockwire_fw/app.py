"""The scanner application: reads in, scans durably out, acks back, outcomes to the worker.

Owns the scanner's rules, independent of the hardware (a HAL object is handed in) and of the
network (an MQTT client is handed in):
- every read goes through the label grammar (labels.py); an item gets the next seq, is written
  to the outbox FIRST and only then beeps "taken", then is published QoS1 on scan/<dev>;
- unacked outbox entries are (re)published oldest first after every (re)connect and every
  `resend_s` seconds;
- an ack on ack/<dev> covering seq ranges drops them from the outbox (stored, refused and
  booked all mean the gateway holds or has judged the scan) and tells the worker the outcome;
  a `retry` ack (the gateway is full) keeps them: they go out again with the next resend;
- a retained heartbeat on status/<dev> every `heartbeat_s` seconds; last will {"online":false};
- the label context is kept on flash across restarts (context.py); the retained config/<dev>
  document updates the running config and the clock (remote.py); the battery-low flag is
  checked every 10 s and at each heartbeat (battery.py); the watchdog is fed every second.
One task sends everything (status and scans), so the client has one operation at a time. An
error in a task (out of memory included) is reported (LOCAL-ERROR), memory is collected and
the task goes on: a read is lost (never beeped taken), a scan stays in the outbox.
The HAL interface: read_frame() (awaitable: bytes, or None for a refused over-long read),
signal(kind, *args), now_ms(), set_ms(ms), battery_mv(), rssi(), feed(), network_up() (awaitable),
gesture() (awaitable: the trigger's next event, trigger.py), fire() (start the engine's read).
The trigger (on_gesture): a pull fires the engine; a double pull books the last item again
with the context of now (a new seq; its code kept in a fixed buffer of _REPEAT_MAX bytes); a
long press opens the mode menu, where each pull steps, a long press picks the mode shown (as
its SW:MODE: label would) and `menu_s` (10) seconds without a gesture close it unchanged.
While it is open, reads are refused ("menu open") and the engine is not fired.
The read window: a pull that brings no read (good, refused or garbled) within `read_ms`
(3000, the engine's single-read time) signals "no-read" (felt, not heard: the item was not
scanned); a read that comes later still counts. A pull during the window starts it again.
"""

import asyncio
import gc
import time

from micropython import const

from . import VERSION
from . import call as _call
from .battery import low
from .event import OFFLINE, decode_ack, encode_scan, encode_status
from .labels import ERROR, EVENT, Labels, aim_len, is_label
from .mqtt import Client, MQTTError
from .outbox import OutboxFull
from .retry import backoff_ms

_BIG_CODE = const(256)
_REPEAT_MAX = const(128)


class Scanner:
    def __init__(self, cfg, hal, outbox, client=None, context=None):
        self.dev = cfg["dev"]
        self.hal = hal
        self.outbox = outbox
        m = cfg["mqtt"]
        self._host = m.get("host", "127.0.0.1")
        self._port = m.get("port", 1883)
        base = "stockwire/v1/%s/%%s/%s" % (cfg["site"], self.dev)
        self.t_scan = base % "scan"
        self.t_ack = base % "ack"
        self.t_status = base % "status"
        self.t_config = base % "config"
        self.cfg = cfg  # the running config: the HAL reads it too; config/<dev> updates it
        self._ctx_path = context_path(cfg)
        # the labels as on flash: restored here, or by main.py before the code was loaded
        self.labels, self._ctx = context or restore(self._ctx_path)
        self._low = False  # the battery-low flag
        self.heartbeat_s = cfg.get("heartbeat_s", 60)
        self.resend_s = cfg.get("resend_s", 15)
        self.client = client or Client(
            m.get("client_id", self.dev),
            m.get("user", self.dev),
            m.get("password"),
            m.get("keepalive", 30),
            (self.t_status, OFFLINE, True, 1),
            m.get("timeout_ms", 3000),
        )
        self.client.on_message = self.on_message
        self._backoff = (m.get("backoff_ms", 250), m.get("backoff_cap_ms", 30000))
        self._attempt = 0  # connection attempts since the last success
        self._wake = asyncio.Event()
        self._online = False  # connected and subscribed: the sender may publish
        self._beat = False  # a status is due
        self._cursor = 0  # highest seq published on the current connection
        self._t0 = time.ticks_ms()
        self._menu = None  # while the menu is open: the line shown (an index into MODES)
        self._menu_ms = cfg.get("menu_s", 10) * 1000
        self._last = bytearray(_REPEAT_MAX)  # the last item's code, for a double pull
        self._last_n = 0  # its length; 0: nothing to repeat, -1: too long to repeat
        self._read_ms = cfg.get("read_ms", 3000)
        self._fired_at = 0  # ticks_ms of the last pull that fired the engine
        self._reading = False  # a read window is open and no read has come yet

    # ---- reads -----------------------------------------------------------------------------

    def handle_read(self, frame):
        """One frame from the engine -> label change, local error, or a durable scan."""
        hal = self.hal
        self._reading = False  # the engine answered the pull, whatever it read
        if frame is None:
            hal.signal("error", "read too long")
            return None
        if self._menu is not None:
            hal.signal("error", "menu open")
            return None
        try:
            if max(frame) > 127:  # not ASCII: is it UTF-8? (only such a read is copied to see)
                frame.decode()
            # only a label is read as text: an item's bytes go to the outbox as they came
            kind, val = self.labels.read(frame.decode()) if is_label(frame) else self.labels.item()
        except UnicodeError:
            hal.signal("error", "unreadable code")
            return None
        ob = self.outbox
        if kind == ERROR:
            hal.signal("error", val)
            return None
        if kind != EVENT:
            self._keep()
            hal.signal("label", self.labels)
            return None
        if ob.full():
            hal.signal("error", "outbox full")
            return None
        seq = ob.next_seq()
        mode, loc, ref, qty = val
        try:
            ob.append(seq, hal.now_ms(), mode, qty, loc, ref, frame)
        except (OSError, OutboxFull, ValueError) as e:
            hal.signal("error", "not stored: %s" % (e,))
            return None
        # The scan is durable now: the worker must hear "taken" (never "bad", which would make
        # them scan it again and book it twice), so a signal that runs out of memory is retried.
        try:
            hal.signal("taken", seq)
        except MemoryError:
            gc.collect()
            hal.signal("taken", seq)
        if qty != 1:
            self._keep()  # the one-shot quantity is used up
        if mode != "count-close":  # the item a double pull repeats
            n = len(frame)
            if n <= _REPEAT_MAX:
                self._last[:n] = frame
            self._last_n = n if n <= _REPEAT_MAX else -1
        self._wake.set()
        return seq

    # ---- the trigger -----------------------------------------------------------------------

    def on_gesture(self, g):
        """One trigger event (trigger.py), or None when the menu timed out."""
        shut = self._menu is None
        if shut and g == "pull":
            self.hal.fire()
            self._fired_at = time.ticks_ms()
            self._reading = True
        elif shut and g == "double":  # the last item again: a new read, the context as set now
            n = self._last_n
            if n > 0:
                self.handle_read(bytes(memoryview(self._last)[:n]))
            else:
                self.hal.signal("error", "code too long to repeat" if n else "nothing to repeat")
        elif g == "long" or not (shut or g == "pull" or g == "double"):
            self._reading = False  # the long press's own read window: not a scan
            _call("menu", "step", self, g)  # seldom: the menu's code is loaded only for it

    async def _gestures(self):
        """The trigger's events; while the menu is open, or a read window (a pull waiting
        for its read), the wait for the next one ends at the menu's or the window's end."""
        while True:
            try:
                g = self.hal.gesture()
                if self._menu is not None:
                    g = asyncio.wait_for_ms(g, self._menu_ms)
                elif self._reading:
                    left = self._read_ms - time.ticks_diff(time.ticks_ms(), self._fired_at)
                    g = asyncio.wait_for_ms(g, left if left > 0 else 0)
                self.on_gesture(await g)
            except asyncio.TimeoutError:
                if self._menu is not None:
                    self.on_gesture(None)
                elif self._reading:  # nothing read (or refused) since the pull
                    self._reading = False
                    self.hal.signal("no-read")
            except Exception as e:  # out of memory: report, go on without the window or
                self._reading = False  # the menu that failed (never the same error in a loop)
                self._menu = None
                self._trouble(e)
                await asyncio.sleep_ms(20)

    def _keep(self):
        """The label context to flash if it changed (its bytes count in outbox.written)."""
        try:
            self._ctx, n = _call("context", "save", self.labels, self._ctx_path, self._ctx)
            self.outbox.written += n
        except (OSError, MemoryError):  # the label holds in RAM; the worker hears a warning
            gc.collect()
            self.hal.signal("error", "context not saved")

    async def _reads(self):
        while True:
            try:
                self.handle_read(await self.hal.read_frame())
            except Exception as e:  # out of memory, a broken feed: report, go on
                self._trouble(e)  # (a feed that keeps failing: once a second, not 50 times)
                await asyncio.sleep_ms(20 if isinstance(e, MemoryError) else 1000)

    def _trouble(self, e):
        gc.collect()
        self.hal.signal("error", "out of memory" if isinstance(e, MemoryError) else repr(e))

    # ---- acks ------------------------------------------------------------------------------

    def on_message(self, topic, payload):
        if topic == self.t_config:
            if payload:  # an empty retained message clears the config: nothing to apply
                _call("remote", "apply", self, payload, self.client.retained)
            return
        if topic != self.t_ack:
            return
        ack = decode_ack(payload)
        if ack is None:
            self.hal.signal("error", "bad ack")
            return
        status, ranges, reason, display = ack
        if status != "retry":
            self.outbox.ack(ranges)
        self.hal.signal(status, ranges, reason or display)

    def _battery(self):
        mv = self.hal.battery_mv()
        now = low(mv, self._low, self.cfg.get("low_battery_mv", 3400))
        if now != self._low:
            self._low = now
            self.hal.signal("battery", mv, now)

    # ---- network ---------------------------------------------------------------------------

    def status(self):
        ob = self.outbox
        return encode_status(
            VERSION,
            self.hal.battery_mv(),
            self.hal.rssi(),
            ob.ring.live,
            time.ticks_diff(time.ticks_ms(), self._t0) // 1000,
            ob.boot,
            ob.next - 1,
        )

    async def _sender(self):
        c = self.client
        ob = self.outbox
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                if self._beat and self._online and c.up:
                    self._beat = False
                    await c.publish(self.t_status, self.status(), 1, True)
                while self._online and c.up:
                    nxt = ob.ring.after(self._cursor)
                    if nxt is None:
                        break
                    # the code as the record's bytes, made into the event before anything else
                    # can use the outbox's buffer (no await in between)
                    seq, boot, ts, qty, mode, code, loc, ref = ob.load(nxt[1], True)
                    sym = str(code[: aim_len(code)], "utf-8")
                    if len(code) > _BIG_CODE:  # collect first rather than fail on a
                        gc.collect()  # fragmented heap: the event is one block of its size
                    payload = encode_scan(self.dev, seq, boot, ts, code, sym, mode, qty, loc, ref)
                    code = loc = ref = None
                    t0 = time.ticks_ms()
                    if not await c.publish(self.t_scan, payload, 1):
                        self.hal.signal("timeout", seq, time.ticks_diff(time.ticks_ms(), t0))
                        break
                    payload = None
                    if self._cursor < seq:
                        self._cursor = seq
            except Exception as e:  # out of memory: the scan stays in the outbox, tried later
                self._trouble(e)
                self._wake.set()
                await asyncio.sleep_ms(200)

    async def _timer(self):
        """Heartbeat every `heartbeat_s`, resend of the unacked every `resend_s`."""
        t = 0
        while True:
            await asyncio.sleep(1)
            t += 1
            self.hal.feed()  # the watchdog: a hung loop stops feeding it and the board resets
            beat = not t % self.heartbeat_s
            if beat:
                self._beat = True
                self._wake.set()
            if beat or not t % 10:
                self._battery()  # battery-low is signalled when the flag changes
            if not t % self.resend_s and self.outbox.ring.live:
                self._cursor = 0
                self._wake.set()

    async def _link(self):
        c = self.client
        while True:
            self._online = False
            try:
                await self.hal.network_up()
                await c.connect(self._host, self._port)
                await c.subscribe(self.t_ack, 1)
                await c.subscribe(self.t_config, 1)  # its retained copy arrives at once
                self._attempt = 0
                self.hal.signal("connected")
                self._online = self._beat = True  # status first, then everything unacked
                self._cursor = 0
                self._wake.set()
                await c.lost.wait()
                self.hal.signal("offline", c.reason)
            except (MQTTError, OSError) as e:
                self.hal.signal("offline", str(e))
            except Exception as e:  # out of memory: report, then as if the link dropped
                self._trouble(e)
            await asyncio.sleep_ms(backoff_ms(self._attempt, *self._backoff))
            self._attempt += 1

    def start(self):
        """Create the tasks; return them (run them with asyncio)."""
        return [
            asyncio.create_task(f())
            for f in (self._reads, self._gestures, self._link, self._sender, self._timer)
        ]


def context_path(cfg):
    return cfg.get("state_dir", "/state") + "/context"


def restore(path):
    """(Labels, their text on flash) from the context file at `path` (context.py)."""
    lb = Labels()
    try:
        return lb, _call("context", "restore", lb, path)
    except MemoryError:
        return Labels(), ""  # start with an empty context rather than not at all


async def run(cfg, hal, outbox, context=None):
    scanner = Scanner(cfg, hal, outbox, context=context)
    hal.signal("ready", scanner)
    await asyncio.gather(*scanner.start())
