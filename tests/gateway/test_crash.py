"""kill -9 of the gateway process mid-stream, then a restart: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from stockwire.processes import Mosquitto
from tests.gateway.conftest import config_doc, db_rows, die_with_parent, eventually, toml
from tests.gateway.fakeledger import FakeLedger

ROOT = Path(__file__).parents[2]
PER_DEVICE = 500


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "run", "--config", str(config)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=die_with_parent,
        )  # fmt: skip


async def test_killing_the_gateway_mid_stream_and_restarting_loses_and_doubles_nothing(
    broker: Mosquitto, scanners: Any, ledger: FakeLedger, tmp_path: Path
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(toml(config_doc(tmp_path, broker, ledger)))
    log = tmp_path / "gateway.log"
    ledger.delay = 0.01  # keep batches in flight when the kill comes
    gw = start(config, log)
    db = tmp_path / "gateway.db"
    try:
        await eventually(lambda: db.exists() and "connected" in log.read_text(), timeout=15)
        devs = [scanners(d) for d in ("hs-01", "hs-02", "hs-03")]
        for hs in devs:
            hs.resend_every(1.0)

        def stored() -> int:
            return sum(len(hs.acked("stored")) for hs in devs)

        async def publish() -> None:
            for seq in range(1, PER_DEVICE + 1):
                for hs in devs:
                    hs.scan(seq)
                if seq % 50 == 0:
                    await asyncio.sleep(0.02)

        publishing = asyncio.create_task(publish())
        await eventually(lambda: stored() >= 300, timeout=20, every=0.001)
        gw.send_signal(signal.SIGKILL)
        gw.wait()
        await publishing
        gw = start(config, log)  # the broker redelivers the session; scanners re-send the rest
        for hs in devs:
            await hs.wait_for(lambda s: len(s.acked("stored")) == PER_DEVICE, timeout=30)
        await eventually(lambda: len(ledger.booked) == 3 * PER_DEVICE, timeout=30)
        await eventually(
            lambda: (
                db_rows(db, "SELECT count(*) FROM scans WHERE status = 'booked'")
                == [(3 * PER_DEVICE,)]
            ),
            timeout=10,
        )
    finally:
        gw.send_signal(signal.SIGTERM)
        assert gw.wait(15) == 0, log.read_text()[-3000:]
    ids = ledger.booked_ids()
    assert len(ids) == len(set(ids)) == 3 * PER_DEVICE
    rows = db_rows(db, "SELECT dev, seq FROM scans")
    assert Counter(d for d, _ in rows) == {d: PER_DEVICE for d in ("hs-01", "hs-02", "hs-03")}
    assert sorted(rows) == sorted({(d, s) for d, s in rows})
    assert "session present: True" in log.read_text()
