"""The handheld's pin map (firmware/board.json) keeps the ESP32's pin rules, and the wiring table
in hardware/wiring.md is the one board.json makes: plain CPython, no board needed."""

from __future__ import annotations

import binascii
import copy
import json
from typing import Any

import pytest

from stockwire import board as board_rules

SHIPPED: dict[str, Any] = json.loads(board_rules.BOARD.read_text())


def with_pin(name: str, **changes: Any) -> dict[str, Any]:
    board = copy.deepcopy(SHIPPED)
    pin = board["pins"].setdefault(name, {})
    for key, value in changes.items():
        if value is None:
            pin.pop(key, None)
        else:
            pin[key] = value
    return board


def refused_with(board: dict[str, Any], words: str) -> None:
    with pytest.raises(board_rules.BoardError) as e:
        board_rules.check(board)
    assert words in str(e.value), str(e.value)


def test_the_shipped_board_keeps_every_rule() -> None:
    assert board_rules.problems(SHIPPED) == []
    assert board_rules.load() == SHIPPED


def test_the_wiring_table_is_the_one_board_json_makes() -> None:
    table = board_rules.table_in(board_rules.WIRING.read_text())
    assert table == board_rules.wiring_table(SHIPPED), (
        "hardware/wiring.md is out of date: run `python -m stockwire.board --write`"
    )


def test_the_table_names_every_pin_the_firmware_reads() -> None:
    table = board_rules.wiring_table(SHIPPED)
    for name in board_rules.NEEDED:
        gpio = SHIPPED["pins"][name]["gpio"]
        assert f"| {name} | {gpio} |" in table


def test_no_flash_pin_is_used() -> None:
    used = {p["gpio"] for p in SHIPPED["pins"].values()}
    assert not used & set(range(6, 12))
    refused_with(with_pin("led_r", gpio=9), "GPIO 9 belongs to the module's SPI flash")


def test_input_only_pins_are_never_outputs() -> None:
    refused_with(with_pin("led_b", gpio=36), "GPIO 36 is input-only (34-39), it cannot be 'out'")
    refused_with(with_pin("engine_tx", gpio=39), "GPIO 39 is input-only")


def test_input_only_pins_never_rely_on_an_internal_pull() -> None:
    refused_with(with_pin("trigger", gpio=39), "GPIO 39 has no internal pull-up (34-39)")
    refused_with(with_pin("charging", pull="up"), "GPIO 34 has no internal pull-up")


def test_the_trigger_may_sit_on_an_input_only_pin_with_an_external_pull_up() -> None:
    board = with_pin("trigger", gpio=39, pull="external")
    assert board_rules.problems(board) == []


def test_the_trigger_needs_a_pull_up() -> None:
    refused_with(with_pin("trigger", pull="down"), "trigger: the switch pulls to GND")
    refused_with(with_pin("trigger", pull=None), "an input needs a pull")


def test_the_battery_is_read_on_adc1_only() -> None:
    for p in SHIPPED["pins"].values():
        if p["fn"] == "adc":
            assert 32 <= p["gpio"] <= 39
    refused_with(with_pin("battery", gpio=13), "GPIO 13 is not on ADC1 (32-39)")
    refused_with(with_pin("battery", fn="in", pull="external"), "battery: fn must be 'adc'")


def test_a_divider_that_overdrives_the_adc_is_refused() -> None:
    board = copy.deepcopy(SHIPPED)
    board["battery_divider"] = 1.5
    refused_with(board, "above the ADC's 2450 mV")


def test_strapping_pins_are_avoided_unless_justified() -> None:
    used = {p["gpio"] for p in SHIPPED["pins"].values()}
    assert not used & {0, 2, 5, 12, 15}
    refused_with(with_pin("led_g", gpio=2), "GPIO 2 is a strapping pin")
    refused_with(with_pin("trigger", gpio=0), "GPIO 0 is a strapping pin")
    why = "low only while the LED is lit, never held at reset"
    justified = with_pin("led_g", gpio=2, strap=why)
    assert board_rules.problems(justified) == []
    assert f"(strapping pin: {why})" in board_rules.wiring_table(justified)


def test_no_gpio_is_used_twice() -> None:
    refused_with(with_pin("vibration", gpio=25), "vibration: GPIO 25 is already used by buzzer")


def test_uart_pins_and_port_are_valid() -> None:
    refused_with(with_pin("engine_rx", gpio=3), "GPIO 3 is UART0, the console")
    refused_with(with_pin("engine_tx", fn="out"), "engine_tx: fn must be 'uart_tx'")
    refused_with(with_pin("engine_rx", gpio=24), "GPIO 24 does not exist on an ESP32")
    board = copy.deepcopy(SHIPPED)
    board["uart"] = {"id": 0, "baud": 7}
    refused_with(board, "uart: id 0 must be 1 or 2")
    refused_with(board, "uart: baud 7 is not one of")


def test_every_pin_the_firmware_reads_is_there() -> None:
    board = copy.deepcopy(SHIPPED)
    del board["pins"]["buzzer"]
    refused_with(board, "buzzer: missing")


def test_a_garbled_trigger_command_is_refused() -> None:
    board = copy.deepcopy(SHIPPED)
    board["trigger_cmd"] = "7e00zz"
    refused_with(board, "trigger_cmd: '7e00zz' is not hex bytes")


def test_one_refusal_lists_every_rule_broken() -> None:
    board = with_pin("led_r", gpio=9)
    board["pins"]["led_b"]["gpio"] = 36
    found = board_rules.problems(board)
    assert len(found) == 2, found


def test_the_gm65_trigger_command_carries_its_crc() -> None:
    """hardware/scan-engine.md: 7E 00 head, type..data, CRC-16/XMODEM over type..data."""
    frame = bytes.fromhex(SHIPPED["trigger_cmd"])
    assert frame[:2] == b"\x7e\x00" and frame[2:7] == bytes.fromhex("0801000201")
    assert frame[-2:] == binascii.crc_hqx(frame[2:-2], 0).to_bytes(2, "big")
    # the manual's own examples check out with the same CRC
    assert binascii.crc_hqx(bytes.fromhex("0801000a3e"), 0) == 0x4CCF
    assert binascii.crc_hqx(bytes.fromhex("0901000000"), 0) == 0xDEC8
