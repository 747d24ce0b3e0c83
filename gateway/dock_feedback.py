"""What the receiving dock tells the worker: a buzzer and two LEDs on the gateway's GPIO.

Owns the signals and their patterns: `taken` (short beep, green) once a read is committed to
the buffer, `refused` (long beep, red) for a read the dock refuses, `label` (a chirp, green
blink) for a label that changed the dock's state. Every signal is logged; with pins configured
(`[dock] buzzer_pin`, `led_ok_pin`, `led_err_pin`, BCM numbers) and a GPIO to drive, gpiozero
switches them too. A new signal cuts the one still playing. Without pins, or on a machine
without GPIO, the log line is all there is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.config import DockConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pattern:
    """How long the buzzer sounds and which LED lights, for how long (seconds)."""

    beep_s: float
    led: str  # "ok" or "err"
    led_s: float


PATTERNS = {
    "taken": Pattern(beep_s=0.08, led="ok", led_s=0.6),
    "refused": Pattern(beep_s=0.7, led="err", led_s=1.5),
    "label": Pattern(beep_s=0.03, led="ok", led_s=0.15),
}


class Feedback(Protocol):
    def signal(self, kind: str, detail: str = "") -> None: ...

    def close(self) -> None: ...


class LogFeedback:
    """Feedback as log lines only (no pins configured, or no GPIO on this machine)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.given: deque[str] = deque(maxlen=32)  # the latest signals, for the status page

    def signal(self, kind: str, detail: str = "") -> None:
        self.given.append(kind)
        level = logging.WARNING if kind == "refused" else logging.INFO
        log.log(level, "dock %s: %s%s", self.device, kind, f" ({detail})" if detail else "")

    def close(self) -> None:
        pass


class GpioFeedback(LogFeedback):
    """The log line plus a buzzer and LEDs driven through gpiozero output devices (any of the
    three may be absent). Patterns are timed on the running event loop."""

    def __init__(self, device: str, buzzer: Any, led_ok: Any, led_err: Any) -> None:
        super().__init__(device)
        self._buzzer = buzzer
        self._leds = {"ok": led_ok, "err": led_err}
        self._timers: list[asyncio.TimerHandle] = []

    def signal(self, kind: str, detail: str = "") -> None:
        super().signal(kind, detail)
        pattern = PATTERNS[kind]
        self._cut()
        loop = asyncio.get_running_loop()
        steps = ((self._buzzer, pattern.beep_s), (self._leds[pattern.led], pattern.led_s))
        for out, seconds in steps:
            if out is not None:
                out.on()
                self._timers.append(loop.call_later(seconds, out.off))

    def _cut(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for out in (self._buzzer, *self._leds.values()):
            if out is not None:
                out.off()

    def close(self) -> None:
        self._cut()
        for out in (self._buzzer, *self._leds.values()):
            if out is not None:
                with contextlib.suppress(Exception):
                    out.close()


def open_feedback(config: DockConfig, pin_factory: Any = None) -> LogFeedback:
    """GpioFeedback when `config` names pins and gpiozero can drive them (`pin_factory`: a
    gpiozero pin factory, e.g. its MockFactory in tests; None: gpiozero's default), else
    LogFeedback (saying why, once)."""
    pins = (config.buzzer_pin, config.led_ok_pin, config.led_err_pin)
    if all(pin is None for pin in pins):
        return LogFeedback(config.device)
    outputs: list[Any] = []
    try:
        from gpiozero import LED, Buzzer

        with warnings.catch_warnings():  # gpiozero warns for every pin library it lacks
            warnings.simplefilter("ignore")
            for cls, pin in zip((Buzzer, LED, LED), pins, strict=True):
                outputs.append(None if pin is None else cls(pin, pin_factory=pin_factory))
    except Exception as exc:  # no GPIO here (BadPinFactory), a pin in use, no gpiozero
        for out in outputs:
            if out is not None:
                out.close()
        log.warning(
            "dock %s: no GPIO for the buzzer/LEDs (%s); feedback is logged only",
            config.device,
            exc,
        )
        return LogFeedback(config.device)
    return GpioFeedback(config.device, *outputs)
