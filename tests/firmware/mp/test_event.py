"""Scan-event JSON, exactly as docs/protocol.md §2 shows it; ack parsing."""

import json

from stockwire_fw.event import decode_ack, encode_scan, encode_status


def test_scan_exact_bytes():
    got = encode_scan(
        "hs-07",
        1042,
        17,
        1796312366123,
        "]C10109501101530003\x1d10LOT42\x1d17271231",
        "]C1",
        "receive",
        1,
        "WH1-A-03-2",
        "PO-2026-0142",
    )
    assert got == (
        b'{"v":1,"dev":"hs-07","seq":1042,"boot":17,"ts":1796312366123,'
        b'"code":"]C10109501101530003\\u001d10LOT42\\u001d17271231","sym":"]C1",'
        b'"mode":"receive","qty":1,"loc":"WH1-A-03-2","ref":"PO-2026-0142"}'
    ), got
    doc = json.loads(got)
    assert doc["code"][19] == "\x1d"


def test_scan_from_record_bytes_escaped_as_json_dumps():
    code = 'a"b\\c\td\x01\x1d' + "x" * 1000 + "\u00e9"
    raw = memoryview(bytearray(code.encode()))
    got = encode_scan("hs-07", 1, 2, 3, raw, "", "pick", 1, "L", "")
    assert got == encode_scan("hs-07", 1, 2, 3, code, "", "pick", 1, "L", "")
    assert b'"code":' + json.dumps(code).encode() + b',"sym"' in got, got[:80]
    assert json.loads(got)["code"] == code


def test_status():
    doc = json.loads(encode_status("0.1.0", 3900, -61, 0, 12, 3, 1042))
    assert doc == {
        "online": True,
        "fw": "0.1.0",
        "bat_mv": 3900,
        "rssi": -61,
        "outbox": 0,
        "uptime": 12,
        "boot": 3,
        "seq": 1042,
    }


def test_ack():
    assert decode_ack(b'{"seqs": [[1, 3], [5, 5]], "status": "stored"}') == (
        "stored",
        [[1, 3], [5, 5]],
        "",
        "",
    )
    assert decode_ack(
        b'{"seqs": [[7, 7]], "status": "refused", "reason": "unknown barcode",'
        b' "display": "UNKNOWN"}'
    ) == ("refused", [[7, 7]], "unknown barcode", "UNKNOWN")
    assert decode_ack(
        b'{"seqs": [[8, 9]], "status": "retry", "reason": "gateway full", "display": "FULL"}'
    ) == ("retry", [[8, 9]], "gateway full", "FULL")
    for bad in (
        b"",
        b"[]",
        b'{"seqs": [[3, 1]], "status": "stored"}',
        b'{"seqs": [[1, 1]], "status": "lost"}',
        b'{"seqs": 1, "status": "stored"}',
        b"\xff",
    ):
        assert decode_ack(bad) is None, bad
