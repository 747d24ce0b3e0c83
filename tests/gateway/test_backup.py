"""`stockwire gateway backup`: an online, consistent copy of the buffer of a running gateway."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from gateway.buffer import Buffer
from stockwire.cli import main as stockwire
from stockwire.processes import Mosquitto
from tests.gateway.conftest import SCANNERS, config_doc, db_rows, eventually, toml

SCAN_ROWS = "SELECT dev, seq, payload, status FROM scans ORDER BY dev, seq"


def write_config(tmp_path: Path, broker: Mosquitto) -> Path:
    config = tmp_path / "gateway.toml"
    config.write_text(toml(config_doc(tmp_path, broker, None)))
    return config


def count(db: Path) -> int:
    return int(db_rows(db, "SELECT count(*) FROM scans")[0][0])


class Shift:
    """Scanners publishing scans one after another, on threads, until stopped."""

    def __init__(self, scanners: Any) -> None:
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._scan, args=(scanners(dev),), daemon=True)
            for dev in SCANNERS
        ]
        for t in self.threads:
            t.start()

    def _scan(self, scanner: Any) -> None:
        seq = 0
        while not self.stop.wait(0.001):
            seq += 1
            scanner.scan(seq, code=f"{seq:013d}")

    def end(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(5)


async def test_a_backup_taken_while_scans_commit_holds_every_row_committed_before_it(
    broker: Mosquitto, make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path, broker)
    await gateway_factory(make_config())
    db, copy = tmp_path / "gateway.db", tmp_path / "backups" / "gateway-copy.db"
    copy.parent.mkdir()
    shift = Shift(scanners)
    try:
        await eventually(lambda: count(db) >= 300)
        committed_before = db_rows(db, SCAN_ROWS)
        code = await asyncio.to_thread(
            stockwire, ["gateway", "backup", "--config", str(config), "--to", str(copy)]
        )
        assert code == 0
        in_copy = count(copy)
        await eventually(lambda: count(db) > in_copy)  # the gateway went on committing
    finally:
        shift.end()
    with sqlite3.connect(copy) as c:
        assert c.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert c.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        held = {(dev, seq): (payload, status) for dev, seq, payload, status in c.execute(SCAN_ROWS)}
    assert all(held[(dev, seq)] == (payload, status) for dev, seq, payload, status in
               committed_before)  # fmt: skip
    assert len(held) >= len(committed_before)
    assert not list(copy.parent.glob(".*partial")), "the partial copy was renamed into place"


async def test_a_backup_leaves_out_a_write_not_yet_committed_and_does_not_wait_for_it(
    broker: Mosquitto, make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path, broker)
    await gateway_factory(make_config())
    scanner = scanners("hs-01")
    for seq in range(1, 21):
        scanner.scan(seq)
    await scanner.wait_for(lambda s: len(s.acked("stored")) == 20)
    db, copy = tmp_path / "gateway.db", tmp_path / "copy.db"
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock; the gateway's commits queue
        writer.execute(
            "INSERT INTO scans (dev, seq, topic, payload, gw_ts) VALUES ('hs-02', 1, 't', x'00', 0)"
        )
        code = await asyncio.to_thread(
            stockwire, ["gateway", "backup", "--config", str(config), "--to", str(copy)]
        )
        assert code == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert db_rows(copy, "SELECT dev, count(*) FROM scans GROUP BY dev") == [("hs-01", 20)]


async def test_a_backup_opens_as_a_gateway_buffer_with_the_same_rows(
    broker: Mosquitto, make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path, broker)
    running = await gateway_factory(make_config())
    scanner = scanners("hs-03")
    for seq in range(1, 11):
        scanner.scan(seq)
    await scanner.wait_for(lambda s: len(s.acked("stored")) == 10)
    copy = tmp_path / "copy.db"
    assert stockwire(["gateway", "backup", "--config", str(config), "--to", str(copy)]) == 0
    before = await running.gw.buffer.counts()
    restored = await Buffer.open(copy)
    try:
        assert await restored.counts() == before == {**before, "pending": 10}
    finally:
        await restored.close()


def test_backup_refuses_a_missing_buffer_and_the_buffer_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('site = "s"\ngateway_id = "gw-1"\n[buffer]\npath = "gateway.db"\n')
    args = ["gateway", "backup", "--config", str(config), "--to"]
    assert stockwire([*args, str(tmp_path / "copy.db")]) == 1
    assert "no buffer at" in capsys.readouterr().err
    assert not (tmp_path / "gateway.db").exists(), "a backup must not create an empty buffer"
    sqlite3.connect(tmp_path / "gateway.db").close()
    assert stockwire([*args, str(tmp_path / "gateway.db")]) == 1
    assert "is the buffer itself" in capsys.readouterr().err
