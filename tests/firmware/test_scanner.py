"""The real firmware (MicroPython unix port) against a real Mosquitto and a paho 'gateway'."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from stockwire import firmware
from stockwire.wire import decode_scan

from .conftest import doc

TOPIC = "stockwire/v1/site1/scan/hs-01"


def _setup(s) -> None:
    s.read("SW:MODE:receive", "]C0SW:LOC:WH1-A-01", "SW:REF:PO-1001")
    for _ in range(3):
        s.expect("LABEL")


def test_scan_published_once_with_contract_json(make_scanner, gateway) -> None:
    s = make_scanner()
    s.start()
    s.expect("CONNECTED")
    _setup(s)
    s.read(b"]C10109501101530003\x1d10LOT42")
    assert s.expect("TAKEN") == "TAKEN 1"
    topic, payload = gateway.next_scan()
    assert topic == TOPIC
    ev = decode_scan(payload, "hs-01")  # the CPython contract accepts it
    assert (ev.dev, ev.seq, ev.boot, ev.mode, ev.qty, ev.loc, ev.ref, ev.sym) == (
        "hs-01",
        1,
        1,
        "receive",
        1,
        "WH1-A-01",
        "PO-1001",
        "]C1",
    )
    assert ev.code == "]C10109501101530003\x1d10LOT42"
    assert abs(ev.ts - time.time() * 1000) < 60_000
    assert list(doc(payload)) == [
        "v",
        "dev",
        "seq",
        "boot",
        "ts",
        "code",
        "sym",
        "mode",
        "qty",
        "loc",
        "ref",
    ]
    gateway.no_scan(1.0)  # published once
    gateway.ack("hs-01", [1], "stored")
    assert s.expect("STORED") == "STORED 1-1"
    gateway.ack("hs-01", [1], "booked")
    assert s.expect("BOOKED") == "BOOKED 1"


def test_local_errors_are_not_sent(make_scanner, gateway) -> None:
    s = make_scanner()
    s.start()
    s.expect("CONNECTED")
    s.read("5901234123457")
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR scan a mode label first"
    s.read(b"x" * 1100)
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR read too long"
    gateway.no_scan(0.5)


def test_outbox_keeps_scan_until_stored_and_resends_after_restart(make_scanner, gateway):
    s = make_scanner()
    s.start()
    s.expect("CONNECTED")
    _setup(s)
    s.read("5901234123457", "036000291452")
    seqs = [int(s.expect("TAKEN").split()[1]) for _ in range(2)]
    first = [decode_scan(gateway.next_scan()[1]).seq for _ in range(2)]
    assert first == seqs
    gateway.ack("hs-01", [seqs[0]], "stored")
    s.expect("STORED")
    s.kill9()  # never acked seqs[1]
    assert s.start().endswith("outbox=1")
    s.expect("CONNECTED")
    again = decode_scan(gateway.next_scan()[1])
    assert again.seq == seqs[1] and again.code == "036000291452" and again.boot == 1
    gateway.no_scan(0.5)
    gateway.ack("hs-01", [seqs[1]], "stored")
    s.expect("STORED")
    s.kill9()
    assert s.start().endswith("outbox=0")
    s.expect("CONNECTED")
    gateway.no_scan(0.5)


def test_seqs_survive_kill9_and_are_never_reused(make_scanner, gateway) -> None:
    s = make_scanner()
    seen: list[int] = []
    for _ in range(3):
        s.start()
        s.expect("CONNECTED")
        _setup(s)
        s.read("5901234123457", "5901234123457")
        seen += [int(s.expect("TAKEN").split()[1]) for _ in range(2)]
        s.kill9()
    assert len(set(seen)) == len(seen) == 6
    assert seen == sorted(seen)


def test_torn_last_record_is_ignored(make_scanner, gateway, broker) -> None:
    s = make_scanner()
    s.start()
    s.expect("CONNECTED")
    _setup(s)
    s.read("111", "222")
    s.expect("TAKEN 1")
    s.expect("TAKEN 2")
    s.kill9()
    log = s.dir / "outbox.log"
    data = log.read_bytes()
    log.write_bytes(data[:-7])  # a power cut in the middle of writing scan 2
    assert s.start().endswith("outbox=1")
    s.expect("CONNECTED")
    _setup(s)
    s.read("333")
    seq = int(s.expect("TAKEN").split()[1])
    assert seq > 2  # seq 2 was handed out before the cut: never again
    codes = {}
    while 1 not in codes or seq not in codes:
        try:
            ev = decode_scan(gateway.next_scan()[1])
        except Exception:
            raise AssertionError(f"{codes} {s.log}") from None
        codes[ev.seq] = ev.code
    assert codes[1] == "111" and codes[seq] == "333"
    gateway.ack("hs-01", [1, seq])
    s.expect("STORED")
    s.kill9()
    assert s.start().endswith("outbox=0")


def test_publish_while_broker_stopped_times_out_and_keeps_scan(make_scanner, gateway, broker):
    s = make_scanner()
    s.start()
    s.expect("CONNECTED")
    _setup(s)
    time.sleep(0.5)  # the status published on connect is acked: this is about the scan's
    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        s.read("5901234123457")
        seq = int(s.expect("TAKEN").split()[1])
        line = s.expect("TIMEOUT", timeout=5)
        assert time.monotonic() - t0 < 3
        _, tseq, ms = line.split()
        assert int(tseq) == seq and int(ms) <= 1500  # timeout_ms is 1000
        s.read("SW:QTY:2")  # the scanner still reads while the link is down
        s.expect("LABEL")
    finally:
        broker.proc.send_signal(signal.SIGCONT)
    s.expect("CONNECTED", timeout=15)
    while True:
        ev = decode_scan(gateway.next_scan(timeout=15)[1])
        if ev.seq == seq:
            break
    gateway.ack("hs-01", [seq])
    s.expect("STORED")


def test_heartbeat_status_is_retained(make_scanner, broker, gateway) -> None:
    import paho.mqtt.client as mqtt

    s = make_scanner(heartbeat_s=1)
    s.start()
    s.expect("CONNECTED")
    got: list[bytes] = []
    mon = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pw = next(a.password for a in broker.site.accounts if a.username == "gw")
    mon.username_pw_set("gw", pw)
    mon.on_message = lambda c, u, m: got.append(m.payload)
    mon.connect("127.0.0.1", broker.port)
    mon.subscribe("stockwire/v1/site1/status/hs-01", qos=1)
    mon.loop_start()
    try:
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        st = json.loads(got[0])
        assert st["online"] is True and st["fw"] == "0.1.0" and st["boot"] == 1
        assert set(st) == {"online", "fw", "bat_mv", "rssi", "outbox", "uptime", "boot", "seq"}
        s.kill9()
        deadline = time.monotonic() + 20  # the will, after 1.5 x keepalive
        while json.loads(got[-1]) != {"online": False} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(got[-1]) == {"online": False}
    finally:
        mon.loop_stop()
        mon.disconnect()


def test_a_config_it_cannot_use_is_named_in_one_line_and_the_scanner_does_not_start(
    firmware_tree, tmp_path
) -> None:
    cases = {
        "no-mqtt.json": ('{"dev": "hs-01", "site": "site1", "feed": "f"}', "KeyError('mqtt',)"),
        "no-feed.json": ('{"dev": "hs-01", "site": "s", "mqtt": {}}', "KeyError('feed',)"),
        "junk.json": ("nope", "ValueError('syntax error in JSON',)"),
    }
    for name, (text, why) in cases.items():
        (tmp_path / name).write_text(text)
        proc = subprocess.run(
            firmware.command(firmware_tree, tmp_path / name),
            cwd=firmware_tree,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stdout == f"CONFIG-ERROR {tmp_path / name}: {why}\n"


def test_a_feed_that_keeps_failing_is_reported_once_a_second_not_in_a_loop(
    make_scanner, gateway
) -> None:
    s = make_scanner()
    s.feed.unlink()
    s.feed.mkdir()  # the engine's stand-in cannot be opened: every read fails
    s.start()
    s.expect("LOCAL-ERROR")
    time.sleep(3)
    s.stop()
    assert 2 <= len([x for x in s.log if x.startswith("LOCAL-ERROR")]) <= 5
