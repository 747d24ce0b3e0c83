"""The dock decoder's keyboard layouts and GS key, on streams of evdev.InputEvent."""

from __future__ import annotations

from typing import Any

import pytest
from evdev import InputEvent
from evdev import ecodes as e

from gateway.config import ConfigError, parse
from gateway.dock import GS, KeyCombo, KeyDecoder, as_key_events, encode_text

SITE = {"site": "s", "gateway_id": "gw-1"}


def tap(code: int, *mods: int) -> list[InputEvent]:
    """One key typed with `mods` held, as the kernel reports it (each step then SYN_REPORT)."""
    out: list[InputEvent] = []
    for state, codes in ((1, (*mods, code)), (0, (code, *reversed(mods)))):
        for c in codes:
            out += [InputEvent(1, 0, e.EV_KEY, c, state), InputEvent(1, 0, e.EV_SYN, 0, 0)]
    return out


def typed(layout: str, *keys: list[InputEvent], gs_key: str = "ctrl+KEY_RIGHTBRACE") -> list[str]:
    events = [ev for k in keys for ev in k] + tap(e.KEY_ENTER)
    return [b.text for b in KeyDecoder(layout, gs_key).feed_all(as_key_events(events))]


SHIFT, ALTGR, CTRL = e.KEY_LEFTSHIFT, e.KEY_RIGHTALT, e.KEY_LEFTCTRL


def test_german_qwertz_swaps_y_and_z_and_moves_the_symbols() -> None:
    keys = [tap(e.KEY_Y), tap(e.KEY_Z), tap(e.KEY_7, SHIFT), tap(e.KEY_Q, ALTGR),
            tap(e.KEY_SLASH), tap(e.KEY_SLASH, SHIFT), tap(e.KEY_MINUS), tap(e.KEY_2, SHIFT),
            tap(e.KEY_RIGHTBRACE), tap(e.KEY_8, ALTGR), tap(e.KEY_102ND, ALTGR)]  # fmt: skip
    assert typed("de", *keys) == ['zy/@-_ß"+[|']
    assert typed("us", *keys) == ["yz&q/?-@]8"]  # what the same keys mean on a US layout


def test_french_azerty_needs_shift_for_digits_and_moves_letters() -> None:
    keys = [tap(e.KEY_Q), tap(e.KEY_A), tap(e.KEY_W), tap(e.KEY_SEMICOLON), tap(e.KEY_M),
            tap(e.KEY_1), tap(e.KEY_1, SHIFT), tap(e.KEY_0, SHIFT), tap(e.KEY_0, ALTGR),
            tap(e.KEY_6), tap(e.KEY_8)]  # fmt: skip
    assert typed("fr", *keys) == ["aqzm,&10@-_"]


def test_uk_moves_the_quote_at_and_hash() -> None:
    keys = [tap(e.KEY_2, SHIFT), tap(e.KEY_APOSTROPHE, SHIFT), tap(e.KEY_BACKSLASH),
            tap(e.KEY_102ND), tap(e.KEY_3, SHIFT)]  # fmt: skip
    assert typed("uk", *keys) == ['"@#\\£']


def test_dead_keys_type_their_accent_when_followed_by_space() -> None:
    circumflex = tap(e.KEY_LEFTBRACE)  # "^" on AZERTY waits for the next key
    assert typed("fr", circumflex, tap(e.KEY_SPACE), tap(e.KEY_E)) == ["^e"]
    assert typed("fr", circumflex, tap(e.KEY_E)) == ["^e"]  # barcodes are ASCII: no "ê"
    assert typed("de", tap(e.KEY_GRAVE)) == ["^"]  # a dead key before Enter is kept


def test_caps_lock_shifts_letters_and_umlauts_but_not_digits() -> None:
    keys = [tap(e.KEY_CAPSLOCK), tap(e.KEY_LEFTBRACE), tap(e.KEY_Y), tap(e.KEY_1),
            tap(e.KEY_Y, SHIFT)]  # fmt: skip
    assert typed("de", *keys) == ["ÜZ1z"]


def test_a_level_a_key_does_not_have_is_an_unknown_key() -> None:
    events = as_key_events(tap(e.KEY_GRAVE, SHIFT) + tap(e.KEY_A, ALTGR) + tap(e.KEY_ENTER))
    (barcode,) = KeyDecoder("fr").feed_all(events)
    assert barcode.unknown_keys == 2 and barcode.garbled


@pytest.mark.parametrize(
    ("gs_key", "keys"),
    [
        ("ctrl+KEY_RIGHTBRACE", [tap(e.KEY_RIGHTBRACE, CTRL)]),
        ("KEY_F8", [tap(e.KEY_F8)]),
        ("f8", [tap(e.KEY_F8)]),
        ("KEY_KPENTER", [tap(e.KEY_KPENTER)]),
        ("ctrl+shift+2", [tap(e.KEY_2, CTRL, SHIFT)]),
    ],
)
def test_the_gs_key_is_configurable(gs_key: str, keys: list[list[InputEvent]]) -> None:
    assert typed("de", tap(e.KEY_1), *keys, tap(e.KEY_2), gs_key=gs_key) == [f"1{GS}2"]


def test_keypad_enter_ends_a_read_unless_it_stands_for_gs() -> None:
    keys = [tap(e.KEY_1), tap(e.KEY_KPENTER), tap(e.KEY_2)]
    assert typed("us", *keys) == ["1", "2"]
    assert typed("us", *keys, gs_key="KEY_KPENTER") == [f"1{GS}2"]


def test_gs_key_syntax_errors_are_refused() -> None:
    for bad in ("ctrl+]", "KEY_NOPE", "hyper+KEY_F8", "KEY_ENTER", "shift", ""):
        with pytest.raises(ValueError):
            KeyCombo.parse(bad)


GS1 = "]C101095011015300031\x1d10LOT-42/A\x1d21Sn#7"
PRINTABLE = "".join(map(chr, range(33, 127)))


@pytest.mark.parametrize("layout", ["us", "uk", "de", "fr"])
@pytest.mark.parametrize("gs_key", ["ctrl+KEY_RIGHTBRACE", "KEY_F8", "KEY_KPENTER"])
def test_every_layout_and_gs_key_round_trips_gs1_and_printable_ascii(
    layout: str, gs_key: str
) -> None:
    texts = [GS1, PRINTABLE, "SW:MODE:receive"]
    events = [ev for t in texts for ev in encode_text(t, layout_name=layout, gs_key=gs_key)]
    assert [b.text for b in KeyDecoder(layout, gs_key).feed_all(events)] == texts


def dock(**values: Any) -> dict[str, Any]:
    return {**SITE, "dock": {"evdev_path": "usb-Reader-event-kbd", **values}}


def test_the_dock_config_takes_a_layout_a_gs_key_and_feedback_pins() -> None:
    config = parse(dock(layout="fr", gs_key="KEY_F8", buzzer_pin=18, led_ok_pin=23))
    assert config.dock is not None
    assert (config.dock.layout, config.dock.gs_key, config.dock.led_err_pin) == (
        "fr",
        "KEY_F8",
        None,
    )
    assert parse(dock()).dock.layout == "us"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "values",
    [{"layout": "dvorak"}, {"gs_key": "ctrl+]"}, {"buzzer_pin": 40},
     {"led_ok_pin": 5, "led_err_pin": 5}, {"buzzer_pin": True}, {"reopen_min_s": 0}],
)  # fmt: skip
def test_a_dock_config_that_cannot_work_is_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"\[dock\]"):
        parse(dock(**values))
