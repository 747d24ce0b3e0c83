"""MQTT intake into the SQLite buffer, against a real Mosquitto and a real database file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from stockwire.wire import topic
from tests.gateway.conftest import SITE, db_rows, eventually


async def test_a_scan_is_acked_only_after_it_is_committed(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    await gateway_factory(make_config())
    hs = scanners("hs-01")
    for seq in range(1, 201):
        hs.scan(seq)
    await hs.wait_for(lambda s: s.acked("stored") == set(range(1, 201)))
    assert hs.seen_in_db and all(hs.seen_in_db), "an ack arrived before its rows were committed"
    assert not hs.outbox
    # group commit: far fewer ack messages than scans, each covering ranges
    assert len(hs.acks) < 200
    rows = db_rows(tmp_path / "gateway.db", "SELECT dev, seq, status, receptions FROM scans")
    assert sorted(r[1] for r in rows) == list(range(1, 201))
    assert {(r[0], r[2], r[3]) for r in rows} == {("hs-01", "pending", 1)}


async def test_a_duplicate_dev_seq_is_acked_again_and_stored_once(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    await gateway_factory(make_config())
    hs = scanners("hs-02")
    first = hs.scan(7)
    await hs.wait_for(lambda s: 7 in s.acked("stored"))
    for n in (2, 3):
        hs.send_raw(first)
        await hs.wait_for(lambda s, n=n: sum(a["seqs"] == [[7, 7]] for a in s.acks) == n)
    rows = db_rows(tmp_path / "gateway.db", "SELECT seq, receptions, payload FROM scans")
    assert rows == [(7, 3, first)]


async def test_an_invalid_payload_gets_a_refusal_with_the_reason_and_is_kept_in_dead_letters(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    await gateway_factory(make_config())
    hs = scanners("hs-01")
    hs.send_raw(b'{"v":1,"dev":"hs-01","seq":5,"code":"X","mode":"steal"}', 5)
    hs.send_raw(b"\xff not json at all")
    await hs.wait_for(lambda s: len([a for a in s.acks if a["status"] == "refused"]) == 2)
    refused = [a for a in hs.acks if a["status"] == "refused"]
    assert {"seqs": [[5, 5]], "status": "refused", "reason": "bad mode",
            "display": "BAD MODE"} in refused  # fmt: skip
    assert any(a["reason"] == "invalid utf-8" and a["seqs"] == [] for a in refused)
    assert not hs.outbox  # a refused scan can never be taken: the scanner drops it
    dead = db_rows(tmp_path / "gateway.db", "SELECT topic, payload, reason FROM dead_letters")
    assert (topic(SITE, "scan", "hs-01"), b"\xff not json at all", "invalid utf-8") in dead
    assert len(dead) == 2
    assert db_rows(tmp_path / "gateway.db", "SELECT count(*) FROM scans") == [(0,)]


async def test_a_device_cannot_be_impersonated_via_a_topic_mismatch(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    await gateway_factory(make_config())
    victim, thief = scanners("hs-01"), scanners("hs-02")
    # hs-02 claims to be hs-01 in the payload; it may only publish on its own topic
    thief.scan(1, dev="hs-01")
    await thief.wait_for(lambda s: any(a["status"] == "refused" for a in s.acks))
    assert thief.acks[0]["reason"] == "device mismatch"
    assert thief.acks[0]["seqs"] == [[1, 1]]
    # and it cannot publish on hs-01's topic at all (the broker's ACL drops it)
    thief.client.publish(topic(SITE, "scan", "hs-01"), victim.scan(2), qos=1)
    await victim.wait_for(lambda s: 2 in s.acked("stored"))
    rows = db_rows(tmp_path / "gateway.db", "SELECT dev, seq, receptions FROM scans")
    assert rows == [("hs-01", 2, 1)]
    assert victim.acks == [{"seqs": [[2, 2]], "status": "stored"}]
    dead = db_rows(tmp_path / "gateway.db", "SELECT reason FROM dead_letters")
    assert dead == [("device mismatch",)]


async def test_status_messages_and_the_last_will_update_the_devices_table(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    await gateway_factory(make_config())
    hs = scanners("hs-03")
    status = {"online": True, "fw": "0.1.0", "bat_mv": 3900, "rssi": -61, "outbox": 4,
              "uptime": 12, "boot": 3, "seq": 1042}  # fmt: skip
    hs.client.publish(topic(SITE, "status", "hs-03"), orjson.dumps(status), qos=1, retain=True)
    db = tmp_path / "gateway.db"
    query = "SELECT online, fw, bat_mv, rssi, outbox FROM devices WHERE dev = 'hs-03'"
    await eventually(lambda: db_rows(db, query) == [(1, "0.1.0", 3900, -61, 4)])
    hs.client.publish(topic(SITE, "status", "hs-03"), b'{"online": false}', qos=1, retain=True)
    await eventually(lambda: db_rows(db, query) == [(0, "0.1.0", 3900, -61, 4)])
