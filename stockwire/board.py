"""The handheld's pin map, firmware/board.json: checked against the ESP32's pin rules and
rendered as the wiring table in hardware/wiring.md.

board.json is the one place pins live: the firmware's board config (hal_esp32.build) reads it,
this module refuses a map the ESP32 cannot run (`problems`, `check`) and writes the wiring
table from it (`wiring_table`), so the table and the firmware cannot drift apart.

    python -m stockwire.board            # check firmware/board.json, print the table
    python -m stockwire.board --write    # check it and rewrite the table in hardware/wiring.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BOARD = ROOT / "firmware" / "board.json"
WIRING = ROOT / "hardware" / "wiring.md"
BEGIN = "<!-- board.json table: made by `python -m stockwire.board --write`, do not edit -->"
END = "<!-- end of board.json table -->"

# ESP32 (WROOM-32E) GPIOs: 20, 24 and 28-31 do not exist on the chip's package
GPIOS = frozenset([*range(0, 20), 21, 22, 23, 25, 26, 27, *range(32, 40)])
FLASH = frozenset(range(6, 12))  # the module's SPI flash
CONSOLE = frozenset((1, 3))  # UART0: the USB-serial console mpremote and esptool use
INPUT_ONLY = frozenset(range(34, 40))  # no output driver, no internal pull-up or pull-down
ADC1 = frozenset(range(32, 40))  # ADC2 (the other ADC pins) cannot be read while Wi-Fi is on
STRAPPING = frozenset((0, 2, 5, 12, 15))  # sampled at reset: boot mode, flash voltage, ...

FUNCTIONS = ("in", "out", "pwm", "adc", "uart_tx", "uart_rx", "i2c_sda", "i2c_scl")
INPUT_FUNCTIONS = frozenset(("in", "adc", "uart_rx"))
PULLS = ("up", "down", "external")  # internal pull-up, internal pull-down, a resistor fitted
UART_IDS = (1, 2)  # UART0 is the console
BAUDS = (9600, 19200, 38400, 57600, 115200)
NEEDED = ("engine_tx", "engine_rx", "trigger", "buzzer", "led_g", "battery")  # build() reads
CELL_MAX_MV = 4200  # a full Li-ion cell
ADC_MAX_MV = 2450  # ESP32 ADC, 11 dB attenuation: the calibrated range ends near 2450 mV


class BoardError(ValueError):
    """A pin map the ESP32 cannot run; the message lists every rule it breaks."""


def problems(board: dict[str, Any]) -> list[str]:
    """Every rule `board` breaks, one clear sentence each; empty if it is sound."""
    out: list[str] = []
    pins = board.get("pins")
    if not isinstance(pins, dict) or not pins:
        return ["board.json needs a 'pins' object: signal name -> {gpio, fn, ...}"]
    owner: dict[int, str] = {}
    for name, pin in pins.items():
        out += _pin_problems(name, pin, owner)
    for name in NEEDED:
        if name not in pins:
            out.append(f"{name}: missing (the firmware's build() reads it)")
    out += _role_problems(board, pins)
    return out


def _pin_problems(name: str, pin: Any, owner: dict[int, str]) -> list[str]:
    if not isinstance(pin, dict):
        return [f"{name}: must be an object with gpio and fn"]
    gpio, fn, pull = pin.get("gpio"), pin.get("fn"), pin.get("pull")
    if type(gpio) is not int or gpio not in GPIOS:
        return [f"{name}: GPIO {gpio!r} does not exist on an ESP32"]
    out = []
    if gpio in owner:
        out.append(f"{name}: GPIO {gpio} is already used by {owner[gpio]}")
    owner.setdefault(gpio, name)
    if fn not in FUNCTIONS:
        out.append(f"{name}: fn {fn!r} is not one of {', '.join(FUNCTIONS)}")
    if pull is not None and pull not in PULLS:
        out.append(f"{name}: pull {pull!r} is not one of {', '.join(PULLS)}")
    if gpio in FLASH:
        out.append(f"{name}: GPIO {gpio} belongs to the module's SPI flash (6-11 are never used)")
    if gpio in CONSOLE:
        out.append(f"{name}: GPIO {gpio} is UART0, the console that flashing and mpremote use")
    if gpio in INPUT_ONLY:
        if fn not in INPUT_FUNCTIONS:
            out.append(f"{name}: GPIO {gpio} is input-only (34-39), it cannot be {fn!r}")
        if pull in ("up", "down"):
            out.append(
                f"{name}: GPIO {gpio} has no internal pull-{pull} (34-39);"
                " fit a resistor and declare pull 'external'"
            )
    if fn == "adc" and gpio not in ADC1:
        out.append(f"{name}: GPIO {gpio} is not on ADC1 (32-39); ADC2 is unusable with Wi-Fi on")
    if fn == "in" and pull is None:
        out.append(f"{name}: an input needs a pull (up, down, or external), else it floats")
    if gpio in STRAPPING and not str(pin.get("strap", "")).strip():
        out.append(
            f"{name}: GPIO {gpio} is a strapping pin (0, 2, 5, 12, 15): avoid it or say in"
            " 'strap' why its level at reset is safe"
        )
    return out


def _role_problems(board: dict[str, Any], pins: dict[str, Any]) -> list[str]:
    out = []

    def fn_of(name: str) -> Any:
        pin = pins.get(name)
        return pin.get("fn") if isinstance(pin, dict) else None

    for name, fn in (("engine_tx", "uart_tx"), ("engine_rx", "uart_rx"), ("battery", "adc")):
        if name in pins and fn_of(name) != fn:
            out.append(f"{name}: fn must be {fn!r}")
    trigger = pins.get("trigger")
    if isinstance(trigger, dict) and trigger.get("pull") not in ("up", "external"):
        out.append("trigger: the switch pulls to GND, so it needs pull 'up' or 'external'")
    uart = board.get("uart")
    if not isinstance(uart, dict):
        return [*out, "board.json needs a 'uart' object: {id, baud}"]
    if uart.get("id") not in UART_IDS:
        out.append(f"uart: id {uart.get('id')!r} must be 1 or 2 (UART0 is the console)")
    if uart.get("baud") not in BAUDS:
        out.append(f"uart: baud {uart.get('baud')!r} is not one of {BAUDS}")
    try:
        if not bytes.fromhex(board.get("trigger_cmd", "")):
            out.append("trigger_cmd: empty")
    except (TypeError, ValueError):
        out.append(f"trigger_cmd: {board.get('trigger_cmd')!r} is not hex bytes")
    divider = board.get("battery_divider")
    if not isinstance(divider, (int, float)) or isinstance(divider, bool) or divider < 1:
        out.append(f"battery_divider: {divider!r} must be a number >= 1")
    elif CELL_MAX_MV / divider > ADC_MAX_MV:
        out.append(
            f"battery_divider: a full cell ({CELL_MAX_MV} mV) gives"
            f" {CELL_MAX_MV / divider:.0f} mV at the pin, above the ADC's {ADC_MAX_MV} mV"
        )
    return out


def check(board: dict[str, Any]) -> dict[str, Any]:
    """`board` if it is sound; else BoardError naming every rule it breaks."""
    found = problems(board)
    if found:
        raise BoardError("board.json refused:\n  " + "\n  ".join(found))
    return board


def load(path: Path = BOARD) -> dict[str, Any]:
    """The board file at `path`, checked."""
    board = json.loads(path.read_text())
    if not isinstance(board, dict):
        raise BoardError(f"{path}: not a JSON object")
    return check(board)


def wiring_table(board: dict[str, Any]) -> str:
    """The wiring table of `board` as markdown, in board.json's order."""
    rows = ["| signal | GPIO | use | pull | connects to |", "|---|---|---|---|---|"]
    for name, pin in board["pins"].items():
        to = pin.get("to", "")
        if pin.get("strap"):
            to += f" (strapping pin: {pin['strap']})"
        rows.append(f"| {name} | {pin['gpio']} | {pin['fn']} | {pin.get('pull', '-')} | {to} |")
    return "\n".join(rows) + "\n"


def table_in(markdown: str) -> str | None:
    """The generated table between the markers of `markdown`, or None without markers."""
    if BEGIN not in markdown or END not in markdown:
        return None
    return markdown.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def with_table(markdown: str, table: str) -> str:
    """`markdown` with the table between its markers replaced by `table`."""
    head, rest = markdown.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{table}{END}{rest.split(END, 1)[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite hardware/wiring.md's table")
    args = parser.parse_args(argv)
    try:
        board = load()
    except BoardError as e:
        print(e, file=sys.stderr)
        return 1
    table = wiring_table(board)
    if args.write:
        WIRING.write_text(with_table(WIRING.read_text(), table))
        print(f"{WIRING.relative_to(ROOT)}: table written")
    else:
        print(table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
