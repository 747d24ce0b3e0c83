"""MQTT intake into the SQLite buffer, against a real Mosquitto and a real database file."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from gateway.config import parse
from gateway.handoff import Handoff
from gateway.intake import Intake
from stockwire.processes import free_port
from stockwire.wire import topic
from tests.gateway.conftest import SITE, config_doc, db_rows, eventually, toml

ROOT = Path(__file__).parents[2]


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
    nonsense = {"online": True, "fw": "x" * 500, "bat_mv": 99_999, "rssi": 12, "outbox": -1}
    hs.client.publish(topic(SITE, "status", "hs-03"), orjson.dumps(nonsense), qos=1, retain=True)
    # figures no scanner can have are not believed: the last believable ones stay
    await eventually(lambda: db_rows(db, query) == [(1, "x" * 32, 3900, -61, 4)])


async def test_a_reused_seq_with_different_content_is_refused_and_kept_in_dead_letters(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway")
    await gateway_factory(make_config())
    hs = scanners("hs-01")
    first = hs.scan(7, code="1111", boot=3)
    await hs.wait_for(lambda s: 7 in s.acked("stored"))
    # a replaced scanner reusing the id restarts its seqs: same (dev, seq), another scan
    reused = hs.scan(7, code="2222", mode="receive", boot=1)
    await hs.wait_for(lambda s: 7 in s.acked("refused"))
    assert [a for a in hs.acks if a["status"] == "refused"] == [
        {"seqs": [[7, 7]], "status": "refused", "reason": "seq reused",
         "display": "SEQ REUSED - SEE ADMIN"}
    ]  # fmt: skip
    assert not hs.outbox  # the scanner drops it; the admin replays it from the dead letters
    db = tmp_path / "gateway.db"
    assert db_rows(db, "SELECT seq, receptions, payload FROM scans") == [(7, 1, first)]
    [(dead_topic, raw, reason, detail)] = db_rows(
        db, "SELECT topic, payload, reason, detail FROM dead_letters"
    )
    assert (dead_topic, raw, reason) == (topic(SITE, "scan", "hs-01"), reused, "seq reused")
    # the detail names every field that differs, with both values
    assert "code '1111' held, '2222' in this copy" in detail
    assert "mode 'pick' held, 'receive' in this copy" in detail
    assert "boot 3 held, 1 in this copy" in detail
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("seq reused" in w and "hs-01" in w for w in warnings), warnings


async def test_an_identical_redelivery_in_other_bytes_is_an_ordinary_duplicate(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    await gateway_factory(make_config())
    hs = scanners("hs-02")
    first = hs.scan(9, code="5901234123457", boot=2)
    await hs.wait_for(lambda s: 9 in s.acked("stored"))
    same_event = orjson.dumps(orjson.loads(first), option=orjson.OPT_INDENT_2)
    assert same_event != first
    hs.send_raw(same_event, 9)
    await hs.wait_for(lambda s: sum(a["seqs"] == [[9, 9]] for a in s.acks) == 2)
    assert {a["status"] for a in hs.acks} == {"stored"}
    db = tmp_path / "gateway.db"
    assert db_rows(db, "SELECT seq, receptions, payload FROM scans") == [(9, 2, first)]
    assert db_rows(db, "SELECT count(*) FROM dead_letters") == [(0,)]


async def test_dead_letters_are_logged_escaped_and_a_flood_is_rate_limited(
    make_config: Any, gateway_factory: Any, scanners: Any, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway")
    running = await gateway_factory(make_config())
    dead_log = running.gw.committer.dead_log
    dead_log.window_s = 1.0  # the product's window is 10 s; the rule is the same
    hs = scanners("hs-03")
    for n in range(100):
        hs.send_raw(b"\x1b[2J\x1b[H owned " + str(n).encode())
    await hs.wait_for(lambda s: len(s.acks) >= 1)

    def lines(text: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if text in r.getMessage()]

    await eventually(lambda: bool(lines("more dead letters")), timeout=5)
    logged = lines("dead letter from")
    assert len(logged) == dead_log.limit
    assert "hs-03" in logged[0] and "invalid json" in logged[0]
    assert "\\x1b[2J\\x1b[H owned" in logged[0]
    assert not any("\x1b" in r.getMessage() for r in caplog.records)
    [summary] = lines("more dead letters")
    assert summary.startswith(f"{100 - dead_log.limit} more dead letters")


async def test_the_dead_letters_command_prints_payloads_escaped_with_a_header_and_utc_times(
    broker: Any, make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    running = await gateway_factory(make_config())
    hs = scanners("hs-01")
    evil_payload = b"\x1b[2J\x1b[31mpwned\x07\tthe\xff end"
    hs.send_raw(evil_payload)
    hs.send_raw(b"[" + b"A" * 5000)
    await hs.wait_for(lambda s: len([a for a in s.acks if a["status"] == "refused"]) == 2)
    await running.stop()
    config = tmp_path / "gateway.toml"
    config.write_text(toml(config_doc(tmp_path, broker, None)))
    out = subprocess.run(
        [sys.executable, "-m", "gateway", "gateway", "dead-letters", "--config", str(config)],
        cwd=ROOT, capture_output=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout  # fmt: skip
    assert b"\x1b" not in out and b"\x07" not in out
    header, big, evil = out.decode("ascii").splitlines()
    assert header.split("\t") == [
        "id", "received (UTC)", "topic", "reason", "detail", "bytes", "payload"
    ]  # fmt: skip
    fields = evil.split("\t")
    assert len(fields) == 7
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", fields[1])
    assert abs(datetime.fromisoformat(fields[1]).timestamp() - time.time()) < 60
    assert fields[3] == "invalid utf-8" and fields[5] == str(len(evil_payload))
    assert fields[6] == "\\x1b[2J\\x1b[31mpwned\\x07\\tthe\\xff end"
    big_fields = big.split("\t")
    assert big_fields[5] == "5001"
    assert big_fields[6].endswith("... (5001 bytes)") and len(big_fields[6]) < 200


async def test_a_scan_published_retained_is_taken_once_not_again_at_each_restart(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway")
    config = make_config()
    running = await gateway_factory(config)
    hs = scanners("hs-01")
    good = hs.scan(1)
    await hs.wait_for(lambda s: 1 in s.acked("stored"))
    hs.client.publish(topic(SITE, "scan", "hs-01"), good, qos=1, retain=True)  # live: a dup
    hs.client.publish(topic(SITE, "scan", "hs-02"), b"junk", qos=1, retain=True)  # ACL: dropped
    hs.send_raw(b"retained junk")  # plain junk: one dead letter
    db = tmp_path / "gateway.db"
    await eventually(lambda: len(db_rows(db, "SELECT id FROM dead_letters")) == 1)
    hs.client.publish(topic(SITE, "scan", "hs-01"), b"retained junk", qos=1, retain=True)
    await eventually(lambda: len(db_rows(db, "SELECT id FROM dead_letters")) == 2)
    for _ in range(2):  # each restart subscribes again: the broker re-sends what is retained
        await running.stop()
        running = await gateway_factory(config)
        await eventually(lambda r=running: r.gw.intake.retained_scans == 1)
    assert len(db_rows(db, "SELECT id FROM dead_letters")) == 2
    assert db_rows(db, "SELECT seq, receptions FROM scans") == [(1, 2)]
    assert any("ignoring a retained scan on" in r.getMessage() for r in caplog.records)


async def test_a_broker_that_cannot_be_reached_is_said_in_the_log_and_not_at_every_retry(
    caplog: Any,
) -> None:
    port = free_port()  # nothing listens there
    doc = {"site": SITE, "gateway_id": "gw-1", "mqtt": {"host": "127.0.0.1", "port": port}}
    doc["mqtt"] |= {"reconnect_min_s": 0.2, "reconnect_max_s": 1.0}
    intake = Intake(parse(doc), Handoff(asyncio.get_running_loop(), 10))
    with caplog.at_level(logging.WARNING, logger="gateway.intake"):
        intake.start()
        try:
            deadline = time.monotonic() + 20
            while intake.connect_failures < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            intake.stop()
    assert intake.connect_failures >= 3 and not intake.connected.is_set()
    said = [r.getMessage() for r in caplog.records if "cannot reach the broker" in r.getMessage()]
    assert said[0].startswith(f"cannot reach the broker at 127.0.0.1:{port} (1 attempts so far)")
    assert len(said) == 1 + intake.connect_failures // 10
