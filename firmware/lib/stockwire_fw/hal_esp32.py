"""The scanner's hardware on an ESP32: scan engine on a UART, trigger, buzzer, RGB LED,
vibration motor, optional SSD1306 OLED, battery, Wi-Fi. Each driver is handed its machine
object; `build()` makes them from board.json (the one place pins live) and returns the HAL
app.py talks to. Feedback: signal() -> cues.cue() -> Feedback plays cue_patterns.CUES[name];
the OLED (if one answers) shows a refusal's reason and the menu's line.
"""

import asyncio
import time
from array import array

import machine
import network
from binascii import unhexlify
from micropython import const

from .battery import mv
from .cue_patterns import CUES
from .cues import cue
from .engine_reply import ReplyFilter
from .framing import Framer
from .ssd1306 import open_screen
from .trigger import Gestures

_EPOCH = 946684800 if time.gmtime(0)[0] == 2000 else 0  # the port's epoch to Unix's
_WIFI = {
    network.STAT_WRONG_PASSWORD: "wifi: wrong password",
    network.STAT_NO_AP_FOUND: "wifi: no access point",
    network.STAT_CONNECTING: "wifi: no answer",
}
_RING = const(16)  # trigger edges the IRQ can hold before the asyncio side reads them


class ScanEngine:
    """A serial scan engine: `trigger()` sends its start-read command; reads are framed, and
    the engine's answer to that command is dropped first (engine_reply.py)."""

    def __init__(self, uart: machine.UART, trigger_cmd: bytes) -> None:
        self._uart = uart
        self._cmd = trigger_cmd
        self._stream = asyncio.StreamReader(uart)
        self._framer = Framer()
        self._reply = ReplyFilter()
        self._frames: list = []
        self._buf = bytearray(64)  # reused for every UART read
        self._mv = memoryview(self._buf)

    def trigger(self) -> None:
        self._reply.expect()  # before the write: the answer can come at once
        self._uart.write(self._cmd)

    async def read_frame(self):
        while not self._frames:
            try:
                n = await self._stream.readinto(self._buf)  # what the UART has, up to 64
                self._reply.feed(self._mv[: n or 0], self._framer, self._frames)
            except BaseException:
                self._framer.reset()  # a partial read is lost; the UART stays usable
                raise
        return self._frames.pop(0)


class Trigger:
    """The trigger switch (to GND: pressed reads 0). A hard IRQ on both edges stores ticks_ms
    and the level in a preallocated ring and sets a ThreadSafeFlag: it allocates nothing.
    `gesture()` feeds the edges to trigger.Gestures and returns its next event. A release
    lost in the debounce window is caught by reading the pin once the window has passed."""

    def __init__(self, pin: machine.Pin, gestures: Gestures) -> None:
        self._pin = pin
        self.gestures = gestures  # its timings follow config/<dev> (remote.apply)
        self._t = array("i", bytes(4 * _RING))
        self._v = bytearray(_RING)
        self._w = self._r = 0  # edges written and read, mod 256 (a multiple of _RING)
        self._flag = asyncio.ThreadSafeFlag()
        pin.irq(self._irq, machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING, hard=True)

    def _irq(self, pin: machine.Pin) -> None:
        w = self._w
        self._t[w % _RING] = time.ticks_ms()
        self._v[w % _RING] = pin.value()
        self._w = (w + 1) & 255
        self._flag.set()

    async def gesture(self) -> str:
        g = self.gestures
        while True:
            if (self._w - self._r) & 255 > _RING:  # overrun: the oldest are overwritten
                self._r = (self._w - _RING) & 255
            while self._r != self._w:
                i = self._r % _RING
                self._r = (self._r + 1) & 255
                ev = g.edge(self._t[i], not self._v[i])
                if ev:
                    return ev
            if (not self._pin.value()) != g.down:  # bounce hid the last edge
                await asyncio.sleep_ms(g.debounce + 1)
                ev = g.edge(time.ticks_ms(), not self._pin.value())
                if ev:
                    return ev
                continue
            await self._flag.wait()


class Feedback:
    """Plays cues on the buzzer (PWM), the RGB LED (three pins) and the vibration motor; a new
    cue cuts the one playing. Between cues the LED shows `idle` (green while online)."""

    def __init__(self, pwm: machine.PWM, rgb: tuple, vib: machine.Pin) -> None:
        self._pwm = pwm
        self._rgb = rgb
        self._vib = vib
        self._gen = 0  # the cue playing; a step of an older one stops
        self.idle = 0
        pwm.duty_u16(0)

    def colour(self, c: int) -> None:
        for i in range(3):
            self._rgb[i].value(c >> (2 - i) & 1)

    def play(self, name: str) -> None:
        self._gen += 1
        c, tones, buzz = CUES[name]
        if c:
            self.colour(c)
        asyncio.create_task(self._steps(tones, self._tone, self._gen, c))
        if buzz:
            asyncio.create_task(self._steps(buzz, self._vib.value, self._gen, 0))

    def _tone(self, hz: int) -> None:
        if hz:
            self._pwm.freq(hz)
        self._pwm.duty_u16(32768 if hz else 0)

    async def _steps(self, pairs: tuple, out, gen: int, c: int) -> None:
        for i in range(0, len(pairs), 2):
            if gen != self._gen:
                return
            out(pairs[i])
            await asyncio.sleep_ms(pairs[i + 1])
        if gen == self._gen:
            out(0)
            if c:
                await asyncio.sleep_ms(300)  # the colour a little longer than the sound
                if gen == self._gen:
                    self.colour(self.idle)


class Battery:
    """The cell through the divider: eFuse-calibrated read_uv() x divider, then the unit's
    `battery_cal` from the running config (battery.py); `chg` is the TP4056's CHRG pin."""

    def __init__(self, adc: machine.ADC, divider: float, cfg: dict, chg: machine.Pin) -> None:
        self._adc = adc
        self._div = divider
        self._cfg = cfg  # read at every reading: a config/<dev> update applies at once
        self._chg = chg

    def mv(self) -> int:
        return mv(self._adc.read_uv(), self._div, self._cfg.get("battery_cal"))

    def charging(self) -> bool:
        return not self._chg.value()  # open drain, low while charging


class Esp32Hal:
    def __init__(self, engine, trigger, feedback, screen, battery, wlan, wifi) -> None:
        self.engine = engine
        self.trigger = trigger
        self.gestures = trigger.gestures
        self.feedback = feedback
        self.screen = screen  # an ssd1306.SSD1306, or None
        self.battery = battery
        self.wlan = wlan
        self.wifi = wifi
        self.wdt: machine.WDT | None = None  # set by build(); fed by the app's timer task

    async def gesture(self) -> str:
        return await self.trigger.gesture()

    def fire(self) -> None:
        self.engine.trigger()

    async def read_frame(self):
        return await self.engine.read_frame()

    async def network_up(self) -> bool:
        """Join the Wi-Fi within 10 s, or OSError with the reason (the app backs off and
        tries again); a failed attempt is disconnected and the radio restarted."""
        w = self.wlan
        if w.isconnected():
            return True
        w.active(True)
        try:
            w.config(pm=w.PM_POWERSAVE)  # modem sleep between beacons; keeps the association
        except (AttributeError, ValueError, OSError):
            pass  # a MicroPython without WLAN power management
        w.connect(self.wifi["ssid"], self.wifi["psk"])
        for _ in range(100):
            if w.isconnected():
                return True
            await asyncio.sleep_ms(100)
        st = w.status()
        w.disconnect()
        w.active(False)
        raise OSError(_WIFI.get(st, "wifi status %d" % st))

    def now_ms(self) -> int:
        t = time.time() + _EPOCH
        return t * 1000 if t > 1700000000 else 0  # 0 until the clock is set

    def set_ms(self, ms: int) -> None:
        """The RTC to `ms` (Unix epoch) from the gateway's config `t`; it survives a soft
        reset or a watchdog reset, not a power cut."""
        y, mo, d, h, mi, sec, wd, _ = time.gmtime(ms // 1000 - _EPOCH)
        machine.RTC().datetime((y, mo, d, wd, h, mi, sec, ms % 1000 * 1000))

    def feed(self) -> None:
        if self.wdt:
            self.wdt.feed()

    def charging(self) -> bool:
        return self.battery.charging()

    def battery_mv(self) -> int:
        return self.battery.mv()

    def rssi(self) -> int:
        try:
            return int(self.wlan.status("rssi"))
        except (OSError, ValueError):
            return 0

    def signal(self, kind: str, *args) -> None:
        fb = self.feedback
        c = cue(kind, args)
        if kind in ("connected", "offline"):
            idle = 2 if kind == "connected" else 0
            if idle == fb.idle:
                c = None  # offline again (a retry failed): no news for the worker
            fb.idle = idle
            fb.colour(idle)
        if c:
            fb.play(c)
        text = None  # the OLED's new text; None leaves it
        if kind in ("error", "refused"):
            text = args[-1] or "refused"
        elif kind == "label":
            text = args[0].mode + " " + args[0].loc
        elif kind in ("menu", "taken"):
            text = args[0] if kind == "menu" else ""  # the next scan clears a reason
        elif kind == "battery" and args[1]:
            text = "battery low"
        elif kind == "no-read":
            text = "no read"
        if self.screen and text is not None:
            try:
                self.screen.text(text)
            except OSError:
                self.screen = None  # the display went away: go on without it


def build(board: dict, cfg: dict) -> Esp32Hal:
    """board.json's `pins` map a signal to its GPIO (hardware/wiring.md is made from it)."""
    pins = board["pins"]
    gpio = {name: p["gpio"] for name, p in pins.items()}
    u = board["uart"]
    uart = machine.UART(
        u["id"], baudrate=u["baud"], tx=gpio["engine_tx"], rx=gpio["engine_rx"], timeout=0
    )
    adc = machine.ADC(machine.Pin(gpio["battery"]))
    adc.atten(machine.ADC.ATTN_11DB)
    # an external pull-up (34-39 have no internal one): leave the pin's pulls alone (-1)
    pull = machine.Pin.PULL_UP if pins["trigger"].get("pull") == "up" else -1
    out = machine.Pin.OUT
    i2c = machine.I2C(0, sda=machine.Pin(gpio["oled_sda"]), scl=machine.Pin(gpio["oled_scl"]))
    hal = Esp32Hal(
        ScanEngine(uart, unhexlify(board["trigger_cmd"])),
        Trigger(
            machine.Pin(gpio["trigger"], machine.Pin.IN, pull),
            Gestures(
                cfg.get("debounce_ms", 25), cfg.get("long_ms", 800), cfg.get("double_ms", 350)
            ),
        ),
        Feedback(
            machine.PWM(machine.Pin(gpio["buzzer"]), freq=2700, duty_u16=0),
            tuple(machine.Pin(gpio[n], out, value=0) for n in ("led_r", "led_g", "led_b")),
            machine.Pin(gpio["vibration"], out, value=0),
        ),
        open_screen(i2c, board.get("oled_height", 32)),
        Battery(adc, board.get("battery_divider", 2.0), cfg, machine.Pin(gpio["charging"])),
        network.WLAN(network.STA_IF),
        cfg.get("wifi", {}),
    )
    # the watchdog: a hung event loop stops the timer task feeding it and the board resets
    # (0 turns it off; it cannot be stopped once started, see docs/firmware.md, "Power")
    if cfg.get("wdt_s", 30):
        hal.wdt = machine.WDT(timeout=cfg.get("wdt_s", 30) * 1000)
    return hal
