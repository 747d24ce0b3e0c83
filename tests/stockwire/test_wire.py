"""The shared wire contract: what a scan event must look like, and what acks say."""

from __future__ import annotations

from typing import Any

import pytest

from stockwire.wire import (
    MAX_PAYLOAD_BYTES,
    ScanEvent,
    WireError,
    ack_payload,
    decode_scan,
    encode_scan,
    parse_topic,
    scan_event_from_doc,
    seq_ranges,
    topic,
)

GOOD = (
    b'{"v":1,"dev":"hs-07","seq":1042,"boot":17,"ts":1796312366123,'
    b'"code":"]C10109501101530003\\u001d10LOT42","sym":"]C1","mode":"receive",'
    b'"qty":1,"loc":"WH1-A-03-2","ref":"PO-2026-0142"}'
)


def test_a_well_formed_scan_decodes_with_its_raw_code_kept() -> None:
    event = decode_scan(GOOD, topic_device="hs-07")
    assert event.event_id == "hs-07:1042"
    assert event.code == "]C10109501101530003\x1d10LOT42"
    assert decode_scan(encode_scan(event)) == event


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "invalid json"),
        (b"\xff\xfe", "invalid utf-8"),
        (b"[1,2]", "bad event"),
        (b'{"dev":"hs-07","seq":"1","code":"x","mode":"pick"}', "bad seq"),
        (b'{"dev":"hs-07","seq":true,"code":"x","mode":"pick"}', "bad seq"),
        (b'{"dev":"hs-07","seq":0,"code":"x","mode":"pick"}', "bad seq"),
        (b'{"dev":"hs-07","code":"x","mode":"pick"}', "missing seq"),
        (b'{"dev":"hs-07","seq":1,"code":"","mode":"pick"}', "empty code"),
        (b'{"dev":"hs-07","seq":1,"code":"x","mode":"steal"}', "bad mode"),
        (b'{"dev":"hs-07","seq":1,"code":"x","mode":"pick","qty":0}', "bad qty"),
        (b'{"dev":"hs 07","seq":1,"code":"x","mode":"pick"}', "bad dev"),
        (b'{"v":2,"dev":"hs-07","seq":1,"code":"x","mode":"pick"}', "bad version"),
    ],
)
def test_a_malformed_scan_is_refused_with_a_specific_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(WireError) as caught:
        decode_scan(payload)
    assert caught.value.reason == reason


def test_a_scan_published_on_another_devices_topic_is_refused() -> None:
    with pytest.raises(WireError) as caught:
        decode_scan(GOOD, topic_device="hs-08")
    assert caught.value.reason == "device mismatch"


def test_an_oversized_payload_is_refused_before_parsing() -> None:
    with pytest.raises(WireError) as caught:
        decode_scan(b"{" + b" " * MAX_PAYLOAD_BYTES + b"}")
    assert caught.value.reason == "too large"


def test_acks_cover_sequence_numbers_as_ranges() -> None:
    assert seq_ranges([5, 3, 4, 9, 1, 4]) == [[1, 1], [3, 5], [9, 9]]
    assert ack_payload([2, 1], "stored") == b'{"seqs":[[1,2]],"status":"stored"}'


def test_topics_round_trip_and_foreign_topics_are_refused() -> None:
    assert parse_topic(topic("site1", "scan", "hs-01")) == ("site1", "scan", "hs-01")
    for bad in ("stockwire/v2/site1/scan/hs-01", "stockwire/v1/site1/other/hs-01", "a/b"):
        with pytest.raises(WireError):
            parse_topic(bad)


def test_the_event_id_is_device_and_sequence() -> None:
    assert ScanEvent(dev="dock-1", seq=7, code="x", mode="receive").event_id == "dock-1:7"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"code": "\ud800"}, "bad code"),
        ({"code": "0109\x00506000134352"}, "bad code"),
        ({"loc": "WH1\udfff"}, "bad loc"),
        ({"ref": "PO\x00"}, "bad ref"),
        ({"sym": "]C\ud83d"}, "bad sym"),
        ({"seq": 10**20}, "bad seq"),
        ({"ts": 10**30}, "bad ts"),
        ({"boot": 10**30}, "bad boot"),
    ],
)
def test_text_that_is_not_utf8_or_holds_nul_and_numbers_out_of_range_are_refused(
    extra: dict[str, Any], reason: str
) -> None:
    doc = {"dev": "hs-07", "seq": 1, "code": "5901234123457", "mode": "pick"} | extra
    with pytest.raises(WireError) as caught:
        scan_event_from_doc(doc)
    assert caught.value.reason == reason


def test_other_control_characters_in_a_code_are_kept_raw() -> None:
    code = "]C1010950600013435210AB\x1d17271231\x01\x1b\x7f"
    doc = {"dev": "hs-07", "seq": 1, "code": code, "mode": "pick"}
    event = scan_event_from_doc(doc)
    assert event.code == code
    assert decode_scan(encode_scan(event)) == event


def test_an_integer_beyond_64_bits_is_refused_as_out_of_range_not_as_a_float() -> None:
    payload = b'{"v":1,"dev":"hs-07","seq":18446744073709551616,"code":"1","mode":"pick"}'
    with pytest.raises(WireError) as caught:
        decode_scan(payload, "hs-07")
    assert caught.value.reason == "bad seq"
    assert str(caught.value).endswith(f"seq=18446744073709551616 outside 1..{2**53 - 1}")
