"""The shared wire contract: what a scan event must look like, and what acks say."""

from __future__ import annotations

import pytest

from stockwire.wire import (
    MAX_PAYLOAD_BYTES,
    ScanEvent,
    WireError,
    ack_payload,
    decode_scan,
    encode_scan,
    parse_topic,
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
