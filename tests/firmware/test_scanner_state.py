"""The real firmware keeps its label context across a kill -9, takes its settings and clock
from the retained config/<dev> topic, and warns of a low battery (MicroPython unix port,
real Mosquitto, a paho 'gateway')."""

from __future__ import annotations

import json
import time

from .conftest import doc

CONFIG = "stockwire/v1/site1/config/hs-01"


def _item(s, gateway, code: str = "5901234123457") -> dict:
    s.read(code)
    s.expect("TAKEN")
    ev = doc(gateway.next_scan()[1])
    gateway.ack("hs-01", [ev["seq"]], "stored")  # out of the outbox: not resent after a restart
    s.expect("STORED")
    return ev


def test_the_label_context_survives_a_kill_9(make_scanner, gateway) -> None:
    s = make_scanner()
    s.start()
    s.expect("CONNECTED")
    s.read("SW:MODE:pick", "SW:LOC:WH1-B-07", "SW:REF:SO-4711", "SW:QTY:3")
    for _ in range(4):
        s.expect("LABEL")
    assert _item(s, gateway)["qty"] == 3
    s.read("SW:QTY:2")  # a pending quantity, not used yet
    s.expect("LABEL")
    s.kill9()

    s.start()
    s.expect("CONNECTED")
    ev = _item(s, gateway)  # no labels scanned again
    assert (ev["mode"], ev["loc"], ev["ref"], ev["qty"]) == ("pick", "WH1-B-07", "SO-4711", 2)
    assert _item(s, gateway)["qty"] == 1  # the one-shot quantity is used up, on flash too
    s.kill9()
    s.start()
    s.expect("CONNECTED")
    ev = _item(s, gateway)
    assert (ev["mode"], ev["loc"], ev["qty"]) == ("pick", "WH1-B-07", 1)


def test_a_garbled_context_file_means_an_empty_context(make_scanner, gateway) -> None:
    s = make_scanner()
    (s.dir / "context").write_bytes(b"\xff\x00MODE:pick\nLOC")
    s.start()
    s.expect("CONNECTED")
    s.read("5901234123457")
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR scan a mode label first"


def _publish(gateway, body: dict | bytes, retain: bool) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    gateway.c.publish(CONFIG, payload, qos=1, retain=retain).wait_for_publish(5)


def test_a_retained_config_is_applied_and_a_live_t_sets_the_clock(make_scanner, gateway) -> None:
    # waiting for the scanner's next connect; its `t` is as old as this publish: not a clock
    _publish(gateway, {"heartbeat_s": 1, "low_battery_mv": 3000, "t": 1700000000000}, True)
    s = make_scanner(heartbeat_s=30)
    s.start()
    s.expect("CONNECTED")
    keys = s.expect("CONFIG").split()[1].split(",")
    assert sorted(keys) == ["heartbeat_s", "low_battery_mv"]  # no t from a retained copy
    s.read("SW:MODE:receive", "SW:LOC:A-1")
    ev = _item(s, gateway)
    assert abs(ev["ts"] - 1700000000000) > 86_400_000  # the PC's clock, not the stale `t`

    statuses: list[bytes] = []
    scans = gateway.c.on_message
    gateway.c.on_message = lambda c, u, m: (
        statuses.append(m.payload) if "/status/" in m.topic else scans(c, u, m)
    )
    gateway.c.subscribe("stockwire/v1/site1/status/hs-01", 1)
    time.sleep(3.5)
    assert len(statuses) >= 3  # a heartbeat every second now, not every 30

    t = 2000000000000  # 2033: live, so the scanner's clock follows it
    _publish(gateway, {"t": t}, False)
    assert s.expect("CONFIG") == "CONFIG t"
    ev = _item(s, gateway)
    assert t <= ev["ts"] < t + 10_000

    _publish(gateway, {"heartbeat_s": 60, "volume": 9}, False)  # one bad key: nothing applied
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR bad config: volume"
    _publish(gateway, b"not json", False)
    assert s.expect("LOCAL-ERROR") == "LOCAL-ERROR bad config: json"
    n = len(statuses)
    time.sleep(2.5)
    assert len(statuses) >= n + 2  # still every second
    assert not [x for x in s.log if x.startswith("CONFIG heartbeat")][1:]


def test_battery_low_with_hysteresis_and_calibration(make_scanner, gateway, tmp_path) -> None:
    cell = tmp_path / "battery_mv"
    cell.write_text("3900")
    s = make_scanner(heartbeat_s=1, low_battery_mv=3400, battery_file=str(cell))
    s.start()
    s.expect("CONNECTED")
    cell.write_text("3350")
    assert s.expect("BATTERY", timeout=5) == "BATTERY 3350 low"
    cell.write_text("3480")  # above the limit, not by 100 mV: still low
    s.read("SW:MODE:receive")
    s.expect("LABEL")
    time.sleep(2.5)
    assert [x for x in s.log if x.startswith("BATTERY")] == ["BATTERY 3350 low"]
    cell.write_text("3520")
    assert s.expect("BATTERY", timeout=5) == "BATTERY 3520 ok"
    # a per-unit calibration from the config topic: the heartbeat reports calibrated mV
    _publish(gateway, {"battery_cal": [1.0, -200]}, False)
    assert s.expect("CONFIG") == "CONFIG battery_cal"
    assert s.expect("BATTERY", timeout=5) == "BATTERY 3320 low"
