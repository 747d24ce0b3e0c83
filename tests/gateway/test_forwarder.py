"""Forwarding buffered scans to a real HTTP ledger on loopback."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from tests.gateway.conftest import db_rows, eventually
from tests.gateway.fakeledger import FakeLedger


async def test_the_forwarder_marks_rows_sent_only_after_the_ledger_answered(
    make_config: Any, gateway_factory: Any, scanners: Any, ledger: FakeLedger, tmp_path: Path
) -> None:
    db = tmp_path / "gateway.db"
    seen_while_held: list[str] = []

    def hold(events: list[dict[str, Any]]) -> None:
        for e in events:
            query = "SELECT status FROM scans WHERE dev = ? AND seq = ?"
            seen_while_held.extend(r[0] for r in db_rows(db, query, (e["dev"], e["seq"])))

    ledger.hook, ledger.delay = hold, 0.3
    ledger.refuse["BAD-CODE"] = "unknown barcode"
    await gateway_factory(make_config(ledger))
    hs = scanners("hs-01")
    hs.scan(1)
    hs.scan(2, code="BAD-CODE")
    hs.scan(3)
    await hs.wait_for(lambda s: s.acked("booked") == {1, 3} and s.acked("refused") == {2})
    assert seen_while_held == ["pending"] * 3
    rows = db_rows(db, "SELECT seq, status, reason, answered_ts IS NOT NULL FROM scans ORDER BY id")
    assert rows == [
        (1, "booked", "", 1),
        (2, "refused", "unknown barcode", 1),
        (3, "booked", "", 1),
    ]
    refusal = next(a for a in hs.acks if a["status"] == "refused")
    assert refusal == {"seqs": [[2, 2]], "status": "refused", "reason": "unknown barcode",
                       "display": "UNKNOWN CODE"}  # fmt: skip
    assert ledger.booked_ids() == ["hs-01:1", "hs-01:3"]


async def test_a_ledger_outage_is_ridden_out_and_everything_drains_in_per_device_order(
    make_config: Any, gateway_factory: Any, scanners: Any, ledger: FakeLedger, tmp_path: Path
) -> None:
    ledger.status = 503
    running = await gateway_factory(make_config(ledger))
    devs = [scanners(d) for d in ("hs-01", "hs-02", "hs-03")]
    for seq in range(1, 151):
        for hs in devs:
            hs.scan(seq)
    for hs in devs:
        await hs.wait_for(lambda s: len(s.acked("stored")) == 150)
    await asyncio.sleep(0.5)
    ledger.status = 500
    await asyncio.sleep(0.3)
    failed = len(ledger.requests)
    assert failed >= 3 and not ledger.answered()
    db = tmp_path / "gateway.db"
    assert db_rows(db, "SELECT status, count(*) FROM scans GROUP BY status") == [("pending", 450)]
    assert "HTTP 500" in running.gw.forwarder.last_error  # shown while it lasts
    ledger.status = 200
    await eventually(lambda: len(ledger.booked) == 450, timeout=15)
    assert running.gw.forwarder.last_error == ""  # and gone once the ledger answers
    for hs in devs:
        booked = [e["seq"] for e in ledger.booked if e["dev"] == hs.dev]
        assert booked == list(range(1, 151))
        await hs.wait_for(lambda s: len(s.acked("booked")) == 150)
    answered = [i for batch in ledger.answered() for i in batch]
    assert max(Counter(answered).values()) == 1, "a batch was re-posted after an answer"
    assert all(len(batch) <= 50 for batch in ledger.answered())
    assert db_rows(db, "SELECT status, count(*) FROM scans GROUP BY status") == [("booked", 450)]


async def test_429_retry_after_is_honoured(
    make_config: Any, gateway_factory: Any, scanners: Any, ledger: FakeLedger
) -> None:
    calls = 0

    def first_is_429(events: list[dict[str, Any]]) -> None:
        nonlocal calls
        calls += 1
        ledger.status, ledger.retry_after = (429, "1") if calls == 1 else (200, None)

    ledger.hook = first_is_429
    await gateway_factory(make_config(ledger))  # backoff_max_s is 0.3: only Retry-After waits 1 s
    hs = scanners("hs-02")
    hs.scan(1)
    await hs.wait_for(lambda s: s.acked("booked") == {1})
    (t0, s0, _), (t1, s1, _) = ledger.requests
    assert (s0, s1) == (429, 200)
    assert t1 - t0 >= 0.95


async def test_an_event_the_ledger_keeps_failing_with_500_is_refused_and_the_rest_flows_on(
    make_config: Any, gateway_factory: Any, scanners: Any, ledger: FakeLedger, tmp_path: Path
) -> None:
    ledger.crash_on = {"hs-01:13"}
    running = await gateway_factory(make_config(ledger, ledger={"split_after": 2}))
    hs1, hs2 = scanners("hs-01"), scanners("hs-02")
    for seq in range(1, 41):
        hs1.scan(seq)
        hs2.scan(seq)
    everything_but_13 = set(range(1, 41)) - {13}
    await hs1.wait_for(
        lambda s: s.acked("booked") == everything_but_13 and s.acked("refused") == {13},
        timeout=20,
    )
    await hs2.wait_for(lambda s: s.acked("booked") == set(range(1, 41)), timeout=10)
    refusal = next(a for a in hs1.acks if a["status"] == "refused")
    assert refusal == {"seqs": [[13, 13]], "status": "refused", "reason": "ledger error",
                       "display": "LEDGER ERROR - SEE ADMIN"}  # fmt: skip
    # per-device order held for everything the ledger booked
    assert [e["seq"] for e in ledger.booked if e["dev"] == "hs-01"] == sorted(everything_but_13)
    assert [e["seq"] for e in ledger.booked if e["dev"] == "hs-02"] == list(range(1, 41))
    db = tmp_path / "gateway.db"
    [(status, reason, detail)] = db_rows(
        db, "SELECT status, reason, detail FROM scans WHERE dev = 'hs-01' AND seq = 13"
    )  # kept in the buffer for an admin
    assert (status, reason) == ("refused", "ledger error")
    assert detail.startswith("HTTP 500: ") and "KeyError 'sku'" in detail and len(detail) <= 200
    assert db_rows(db, "SELECT status, count(*) FROM scans GROUP BY status") == [
        ("booked", 79), ("refused", 1)
    ]  # fmt: skip
    assert running.gw.forwarder.split_refused == 1
    lone = [ids for _, status, ids in ledger.requests if ids == ["hs-01:13"]]
    assert len(lone) >= 2 and all(s == 500 for _, s, i in ledger.requests if i == ["hs-01:13"])


async def test_the_oldest_row_failing_with_500_is_refused_once_other_devices_prove_the_ledger_up(
    make_config: Any, gateway_factory: Any, scanners: Any, ledger: FakeLedger, tmp_path: Path
) -> None:
    ledger.crash_on = {"hs-01:1"}
    await gateway_factory(make_config(ledger, ledger={"split_after": 2}))
    hs1, hs2 = scanners("hs-01"), scanners("hs-02")
    hs1.scan(1)
    await hs1.wait_for(lambda s: s.acked("stored") == {1})
    await asyncio.sleep(1.0)  # alone, it cannot be told from a ledger broken for everything
    assert not hs1.acked("refused")
    for seq in range(1, 6):
        hs2.scan(seq)
        hs1.scan(seq + 1)
    await hs1.wait_for(
        lambda s: s.acked("refused") == {1} and s.acked("booked") == set(range(2, 7)),
        timeout=15,
    )
    await hs2.wait_for(lambda s: s.acked("booked") == set(range(1, 6)))
    assert [e["seq"] for e in ledger.booked if e["dev"] == "hs-01"] == list(range(2, 7))


async def test_a_ledger_answering_500_to_everything_gets_nothing_refused(
    make_config: Any, gateway_factory: Any, scanners: Any, ledger: FakeLedger, tmp_path: Path
) -> None:
    ledger.status = 500
    running = await gateway_factory(make_config(ledger, ledger={"split_after": 2}))
    hs1, hs2 = scanners("hs-01"), scanners("hs-02")
    for seq in range(1, 31):
        hs1.scan(seq)
        hs2.scan(seq)
    await eventually(lambda: len(ledger.requests) >= 30, timeout=20)  # bisected and probed
    assert any(len(ids) == 1 for _, _, ids in ledger.requests)
    ledger.status = 200
    for hs in (hs1, hs2):
        await hs.wait_for(lambda s: s.acked("booked") == set(range(1, 31)), timeout=15)
        assert not hs.acked("refused")
        assert [e["seq"] for e in ledger.booked if e["dev"] == hs.dev] == list(range(1, 31))
    assert running.gw.forwarder.split_refused == 0
    db = tmp_path / "gateway.db"
    assert db_rows(db, "SELECT status, count(*) FROM scans GROUP BY status") == [("booked", 60)]
