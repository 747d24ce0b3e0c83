"""The dock reader's key decoder and encoder (pure), and the raw input_event record format."""

from __future__ import annotations

import io

from evdev import ecodes as e

from gateway.dock import (
    GS,
    Barcode,
    KeyDecoder,
    encode_text,
    pack_events,
    unpack_events,
    write_input_events,
)

SYN = (e.EV_SYN, e.SYN_REPORT, 0)


def key(code: int, value: int = 1) -> tuple[int, int, int]:
    return (e.EV_KEY, code, value)


def test_the_dock_decoder_turns_key_events_into_barcodes_with_shift() -> None:
    events = [
        key(e.KEY_LEFTSHIFT), SYN, key(e.KEY_S), key(e.KEY_W), key(e.KEY_SEMICOLON),
        key(e.KEY_LEFTSHIFT, 0), SYN, key(e.KEY_1), key(e.KEY_MINUS),
        key(e.KEY_RIGHTSHIFT), key(e.KEY_A), key(e.KEY_RIGHTSHIFT, 0), key(e.KEY_B),
        key(e.KEY_ENTER),
    ]  # fmt: skip
    assert [b.text for b in KeyDecoder().feed_all(events)] == ["SW:1-Ab"]


def test_the_dock_decoder_turns_ctrl_rightbrace_into_gs() -> None:
    events = [key(e.KEY_0), key(e.KEY_1), key(e.KEY_LEFTCTRL), key(e.KEY_RIGHTBRACE),
              key(e.KEY_RIGHTBRACE, 0), key(e.KEY_LEFTCTRL, 0), key(e.KEY_RIGHTBRACE),
              key(e.KEY_KPENTER)]  # fmt: skip
    assert [b.text for b in KeyDecoder().feed_all(events)] == [f"01{GS}]"]


def test_the_dock_decoder_ignores_autorepeat_and_key_releases() -> None:
    events = [key(e.KEY_7), key(e.KEY_7, 2), key(e.KEY_7, 2), key(e.KEY_7, 0), key(e.KEY_ENTER)]
    assert [b.text for b in KeyDecoder().feed_all(events)] == ["7"]


def test_syn_dropped_flags_the_read_it_falls_in_as_an_overrun() -> None:
    decoder = KeyDecoder()
    events = [key(e.KEY_1), key(e.KEY_2), (e.EV_SYN, e.SYN_DROPPED, 0), key(e.KEY_3), SYN,
              key(e.KEY_4), key(e.KEY_ENTER), *encode_text("5")]  # fmt: skip
    overrun, after = decoder.feed_all(events)
    assert overrun == Barcode("124", overrun=True)  # "3" came before the SYN_REPORT: dropped
    assert after == Barcode("5") and decoder.overruns == 1


def test_a_drop_between_reads_still_flags_the_next_read() -> None:
    events = [*encode_text("7"), (e.EV_SYN, e.SYN_DROPPED, 0), SYN, *encode_text("89")]
    assert list(KeyDecoder().feed_all(events)) == [Barcode("7"), Barcode("89", overrun=True)]


def test_a_read_cut_off_by_an_unplug_comes_out_flagged() -> None:
    decoder = KeyDecoder()
    assert list(decoder.feed_all(encode_text("12", enter=False))) == []
    assert decoder.interrupt() == Barcode("12", overrun=True)
    assert decoder.interrupt() is None


def test_unknown_keys_are_counted_and_flag_the_barcode_as_garbled() -> None:
    events = [key(e.KEY_1), key(e.KEY_F5), key(e.KEY_LEFTCTRL), key(e.KEY_A),
              key(e.KEY_LEFTCTRL, 0), key(e.KEY_2), key(e.KEY_ENTER)]  # fmt: skip
    (barcode,) = KeyDecoder().feed_all(events)
    assert barcode.text == "12" and barcode.unknown_keys == 2 and barcode.garbled


def test_an_empty_enter_yields_nothing_and_caps_lock_affects_letters_only() -> None:
    events = [key(e.KEY_ENTER), key(e.KEY_CAPSLOCK), key(e.KEY_A), key(e.KEY_1), key(e.KEY_ENTER)]
    assert [b.text for b in KeyDecoder().feed_all(events)] == ["A1"]


def test_encoded_text_decodes_back_to_the_same_barcodes() -> None:
    texts = ["SW:MODE:receive", "]C102095060001343523712\x1d10L2612", 'a B!@#$%^&*()_+{}|:"<>?~']
    events = [ev for text in texts for ev in encode_text(text)]
    assert all(events[i + 1] == SYN for i in range(0, len(events), 2))
    assert [b.text for b in KeyDecoder().feed_all(events)] == texts


def test_input_event_records_are_24_bytes_in_the_64_bit_linux_layout() -> None:
    events = encode_text("Ab")
    data = pack_events(events, when=1.5)
    assert len(data) == 24 * len(events)
    assert data[:16] == (1).to_bytes(8, "little") + (500000).to_bytes(8, "little")
    assert unpack_events(data) == events
    out = io.BytesIO()
    write_input_events(out, events)
    assert unpack_events(out.getvalue()) == events
