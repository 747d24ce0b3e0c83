"""The buffer's disk cap, its alarm, retention with dedup kept, and readers beside the writer;
a real Mosquitto, real SQLite files, a real HTTP ledger on loopback."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from gateway.buffer import Buffer
from gateway.model import Answer, classify_scan, now_ms
from gateway.reader import BufferReader
from stockwire.wire import ScanEvent, encode_scan, topic
from tests.gateway.conftest import SITE, db_rows, eventually
from tests.gateway.fakeledger import FakeLedger

BIG = "4" * 900  # a long code: the small test cap fills after a few hundred scans


def acks_for(hs: Any, seq: int, status: str) -> int:
    """How many `status` acks covered `seq`."""
    return sum(a["status"] == status and any(f <= seq <= t for f, t in a["seqs"]) for a in hs.acks)


def messages(caplog: Any, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


async def test_a_full_buffer_refuses_new_scans_with_retry_and_takes_them_once_space_is_freed(
    make_config: Any,
    gateway_factory: Any,
    scanners: Any,
    ledger: FakeLedger,
    tmp_path: Path,
    caplog: Any,
) -> None:
    caplog.set_level(logging.INFO, logger="gateway")
    ledger.status = 503  # the ledger is away: nothing leaves the buffer
    # a week's audit retention and a slow schedule: only disk pressure can make room
    buffer = {"cap_mb": 1, "alarm_pct": 50, "keep_sent_days": 7, "prune_every_s": 600,
              "commit_max": 5}  # fmt: skip
    running = await gateway_factory(make_config(ledger, buffer=buffer))
    hs = scanners("hs-01")
    sent = {seq: hs.scan(seq, code=f"{BIG}{seq}") for seq in range(1, 1001)}
    await hs.wait_for(lambda s: s.acked("stored") | s.acked("retry") == set(sent))

    stored, kept = hs.acked("stored"), hs.acked("retry")
    assert stored and kept and not stored & kept
    assert set(hs.outbox) == kept, "a scan the gateway did not take must stay in the outbox"
    retry = next(a for a in hs.acks if a["status"] == "retry")
    assert (retry["reason"], retry["display"]) == ("gateway full", "GATEWAY FULL - KEPT, RETRYING")
    db = tmp_path / "gateway.db"
    assert {r[0] for r in db_rows(db, "SELECT seq FROM scans")} == stored
    disk = await running.gw.buffer.disk()
    assert disk.full and disk.alarm
    assert disk.used < disk.cap + 5 * 2048, "the cap was overrun by more than one commit"
    assert len(messages(caplog, "buffer disk alarm")) == 1
    assert len(messages(caplog, "buffer FULL")) == 1

    # at the cap, a duplicate of a stored scan is still acked `stored`; a new one is not
    one = min(stored)
    hs.send_raw(sent[one])
    await hs.wait_for(lambda s: acks_for(s, one, "stored") == 2)
    assert hs.acks[-1]["status"] == "stored"
    hs.scan(1001, code=f"{BIG}1001")
    await hs.wait_for(lambda s: 1001 in s.acked("retry"))
    assert 1001 in hs.outbox

    # the ledger is back: it books, retention frees the space, the kept scans are taken
    ledger.status = 200
    hs.resend_every(0.3)
    await hs.wait_for(lambda s: s.acked("booked") == set(range(1, 1002)), timeout=60)
    assert not hs.outbox
    assert sorted(ledger.booked_ids()) == sorted(f"hs-01:{n}" for n in range(1, 1002))
    await eventually(lambda: running.gw.buffer.last_disk.level == "ok", timeout=10)
    assert messages(caplog, "buffer disk use back to ok")
    assert messages(caplog, "disk pressure: pruned")  # answered rows younger than a week


async def test_a_pruned_scan_sent_again_is_acked_and_not_forwarded_a_reused_seq_is_refused(
    make_config: Any,
    gateway_factory: Any,
    scanners: Any,
    ledger: FakeLedger,
    tmp_path: Path,
) -> None:
    buffer = {"keep_sent_days": 0, "prune_every_s": 0.1}
    await gateway_factory(make_config(ledger, buffer=buffer))
    hs = scanners("hs-01")
    sent = {seq: hs.scan(seq, boot=3) for seq in range(1, 21)}
    await hs.wait_for(lambda s: s.acked("booked") == set(sent))
    db = tmp_path / "gateway.db"
    await eventually(lambda: db_rows(db, "SELECT count(*) FROM scans") == [(0,)])
    assert db_rows(db, "SELECT dev, first, last, boot FROM pruned") == [("hs-01", 1, 20, 3)]

    hs.send_raw(sent[5])  # its ack was lost, say, and the scanner sends it again days later
    await hs.wait_for(lambda s: acks_for(s, 5, "stored") == 2)
    assert hs.acks[-1] == {"seqs": [[5, 5]], "status": "stored"}
    hs.scan(7, code="9999", boot=1)  # a replaced scanner starting its seqs again
    await hs.wait_for(lambda s: 7 in s.acked("refused"))
    assert hs.acks[-1]["reason"] == "seq reused"
    [(detail,)] = db_rows(db, "SELECT detail FROM dead_letters WHERE reason = 'seq reused'")
    assert "pruned" in detail and "boot 3" in detail and "boot 1" in detail

    hs.scan(21, boot=3)  # forwarded in row order: 5 would have gone before it
    await hs.wait_for(lambda s: 21 in s.acked("booked"))
    posted = [i for _, _, ids in ledger.requests for i in ids]
    assert posted.count("hs-01:5") == 1
    assert ledger.booked_ids().count("hs-01:7") == 1
    assert db_rows(db, "SELECT count(*) FROM scans WHERE seq IN (5, 7)") == [(0,)]


def _scan(seq: int, boot: int = 2) -> Any:
    event = ScanEvent(dev="hs-02", seq=seq, code="5901234123457", mode="pick", loc="A-01",
                      ts=now_ms(), boot=boot)  # fmt: skip
    return classify_scan(topic(SITE, "scan", "hs-02"), "hs-02", encode_scan(event), now_ms())


async def test_retention_keeps_pending_and_ledger_error_rows_and_remembers_ids_as_ranges(
    tmp_path: Path,
) -> None:
    buffer = await Buffer.open(tmp_path / "b.db")
    try:
        await buffer.store([_scan(seq) for seq in range(1, 13)] + [_scan(20, boot=3)])
        ids = {r.seq: r.id for r in await buffer.pending(100)}
        long_ago = now_ms() - 8 * 86_400_000
        answers = [Answer(ids[s], "hs-02", s, "booked") for s in (1, 2, 3, 4, 6, 7, 8, 20)]
        answers.append(Answer(ids[5], "hs-02", 5, "refused", "ledger error", "HTTP 500"))
        answers.append(Answer(ids[9], "hs-02", 9, "refused", "unknown barcode"))
        await buffer.mark(answers, long_ago)
        await buffer.mark([Answer(ids[10], "hs-02", 10, "booked")], now_ms())  # recent
        assert await buffer.prune(now_ms() - 7 * 86_400_000, limit=3) == 3  # small batches
        while await buffer.prune(now_ms() - 7 * 86_400_000, limit=3):
            pass
        rows = await buffer.query("SELECT seq, status FROM scans ORDER BY seq")
        assert rows == [(5, "refused"), (10, "booked"), (11, "pending"), (12, "pending")]
        ranges = await buffer.query("SELECT first, last, boot FROM pruned ORDER BY first")
        assert ranges == [(1, 4, 2), (6, 9, 2), (20, 20, 3)]
        # a redelivery of any pruned id is acked and stored nowhere; new ids still are
        acks = await buffer.store([_scan(3), _scan(9), _scan(13)])
        assert sorted(acks.ok["hs-02"]) == [3, 9, 13]
        assert [r.seq for r in await buffer.pending(100)] == [11, 12, 13]
    finally:
        await buffer.close()


async def test_a_reader_polling_while_thousands_of_rows_are_committed_is_never_locked_out(
    make_config: Any, gateway_factory: Any, scanners: Any, tmp_path: Path, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway")
    await gateway_factory(make_config())
    db = tmp_path / "gateway.db"
    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def poll() -> None:
        try:
            with BufferReader(db, busy_timeout_s=5) as reader:
                while not done.is_set():
                    seen.append(reader.counts()["pending"])
                    reader.disk(512, 80)
                    reader.query("SELECT dev, seq FROM scans ORDER BY id DESC LIMIT 20")
        except BaseException as exc:  # reported below
            errors.append(exc)

    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for t in pollers:
        t.start()
    hs1, hs2 = scanners("hs-01"), scanners("hs-02")
    for seq in range(1, 2501):
        hs1.scan(seq)
        hs2.scan(seq)
    try:
        for hs in (hs1, hs2):
            await hs.wait_for(lambda s: len(s.acked("stored")) == 2500, timeout=60)
        await eventually(lambda: bool(seen) and seen[-1] == 5000)
    finally:
        done.set()
        await asyncio.to_thread(lambda: [t.join(10) for t in pollers])
    assert not errors, errors
    assert len(seen) > 2
    assert not messages(caplog, "failed"), "the writer was held up by a reader"
    # and a reader cannot write, by construction
    with BufferReader(db) as reader:
        try:
            reader.query("DELETE FROM scans")
        except sqlite3.OperationalError as exc:
            assert "readonly" in str(exc)
        else:
            raise AssertionError("a reader could write")


async def test_retention_prunes_resolved_dead_letters_and_keeps_open_ones(tmp_path: Path) -> None:
    buffer = await Buffer.open(tmp_path / "b.db")
    try:
        junk = classify_scan(topic(SITE, "scan", "hs-02"), "hs-02", b"junk", now_ms())
        await buffer.store([junk, junk])
        first, second = (r[0] for r in await buffer.query("SELECT id FROM dead_letters"))
        assert await buffer.dismiss_dead_letter(first, "alice")
        assert not await buffer.dismiss_dead_letter(first, "alice")  # closed once
        assert await buffer.prune_dead_letters(now_ms() - 7 * 86_400_000) == 0  # too recent
        assert await buffer.prune_dead_letters(now_ms() + 1) == 1
        assert await buffer.query("SELECT id, resolved_ts FROM dead_letters") == [(second, None)]
    finally:
        await buffer.close()
