"""The scanner's hardware on an ESP32: scan engine on a UART, trigger, buzzer, LED, battery,
Wi-Fi. Each driver is handed its machine object; `build()` makes them from board.json (the
one place pins live) and returns the HAL app.py talks to.
"""

import asyncio
import time

import machine
import network
from binascii import unhexlify

from .engine_reply import ReplyFilter
from .framing import Framer

_TONES = {
    "taken": ((2700, 60),),
    "good": ((2700, 60), (0, 40), (3200, 60)),
    "bad": ((700, 400),),
    "label": ((2000, 30),),
}


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
    """The trigger button: an IRQ sets a ThreadSafeFlag; `pulled()` awaits it."""

    def __init__(self, pin: machine.Pin) -> None:
        self._flag = asyncio.ThreadSafeFlag()
        pin.irq(self._irq, machine.Pin.IRQ_FALLING)

    def _irq(self, _pin: machine.Pin) -> None:
        self._flag.set()

    async def pulled(self) -> None:
        await self._flag.wait()


class Beeper:
    def __init__(self, pwm: machine.PWM) -> None:
        self._pwm = pwm
        pwm.duty_u16(0)

    async def play(self, kind: str) -> None:
        for freq, ms in _TONES.get(kind, ()):
            if freq:
                self._pwm.freq(freq)
                self._pwm.duty_u16(32768)
            await asyncio.sleep_ms(ms)
            self._pwm.duty_u16(0)


class Battery:
    def __init__(self, adc: machine.ADC, divider: float) -> None:
        self._adc = adc
        self._div = divider

    def mv(self) -> int:
        return int(self._adc.read_uv() * self._div / 1000)


class Esp32Hal:
    def __init__(self, engine, trigger, beeper, led, battery, wlan, wifi) -> None:
        self.engine = engine
        self.trigger = trigger
        self.beeper = beeper
        self.led = led
        self.battery = battery
        self.wlan = wlan
        self.wifi = wifi
        asyncio.create_task(self._triggers())

    async def _triggers(self) -> None:
        while True:
            await self.trigger.pulled()
            self.engine.trigger()

    async def read_frame(self):
        return await self.engine.read_frame()

    async def network_up(self) -> bool:
        w = self.wlan
        if not w.isconnected():
            w.active(True)
            w.connect(self.wifi["ssid"], self.wifi["psk"])
            for _ in range(100):
                if w.isconnected():
                    break
                await asyncio.sleep_ms(100)
        return bool(w.isconnected())

    def now_ms(self) -> int:
        t = time.time()
        return t * 1000 if t > 1700000000 else 0  # 0 until the clock is set

    def battery_mv(self) -> int:
        return self.battery.mv()

    def rssi(self) -> int:
        try:
            return int(self.wlan.status("rssi"))
        except (OSError, ValueError):
            return 0

    def signal(self, kind: str, *args) -> None:
        if kind in ("taken", "label", "booked"):
            asyncio.create_task(self.beeper.play("good" if kind == "booked" else kind))
        elif kind in ("error", "refused"):
            asyncio.create_task(self.beeper.play("bad"))
        elif kind == "connected":
            self.led.value(1)
        elif kind == "offline":
            self.led.value(0)


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
    return Esp32Hal(
        ScanEngine(uart, unhexlify(board["trigger_cmd"])),
        Trigger(machine.Pin(gpio["trigger"], machine.Pin.IN, pull)),
        Beeper(machine.PWM(machine.Pin(gpio["buzzer"]), freq=2700, duty_u16=0)),
        machine.Pin(gpio["led_g"], machine.Pin.OUT),
        Battery(adc, board.get("battery_divider", 2.0)),
        network.WLAN(network.STA_IF),
        cfg.get("wifi", {}),
    )
