"""The admins' status page over plain HTTP against a running gateway (real Mosquitto, real
SQLite): login, sessions, CSRF, live events, dead-letter replay and /metrics."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.status.auth import add_admin, check_password, read_admins
from tests.gateway.conftest import db_rows, eventually
from tests.gateway.statuskit import (
    ADMIN,
    PASSWORD,
    StatusClient,
    log_in,
    status_config,
)


@pytest.fixture
async def page(make_config: Any, tmp_path: Path, gateway_factory: Any, ledger: Any) -> Any:
    running = await gateway_factory(status_config(make_config, tmp_path, ledger))
    return running


@pytest.fixture
async def client(page: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=page.gw.status.url, timeout=10) as c:
        yield c


async def test_the_page_is_behind_a_login_that_refuses_a_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/")).headers["location"] == "/login"
    wrong = await client.post("/login", data={"name": ADMIN, "password": "wrong"})
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
    unknown = await client.post("/login", data={"name": "mallory", "password": PASSWORD})
    assert unknown.status_code == 401
    assert "stockwire_session" not in client.cookies
    assert (await client.get("/")).status_code == 303


async def test_the_right_password_opens_the_page_with_a_strict_httponly_cookie(
    client: httpx.AsyncClient, broker: Any
) -> None:
    answer = await client.post("/login", data={"name": ADMIN, "password": PASSWORD})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=28800" in cookie
    page = await client.get("/")
    assert page.status_code == 200 and "Log out" in page.text
    assert "script-src 'nonce-" in page.headers["content-security-policy"]
    assert "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")


async def test_a_scanners_retained_status_shows_on_the_page(
    client: httpx.AsyncClient, broker: Any, tmp_path: Path
) -> None:
    scanner = StatusClient(broker, "hs-01")
    try:
        scanner.online(bat_mv=3712, rssi=-67, outbox=4, fw="0.2.1")
        await eventually(lambda: db_rows(tmp_path / "gateway.db", "SELECT dev FROM devices"))
        await log_in(client)
        html = (await client.get("/")).text
        for text in ('id="scanner-hs-01" data-online="yes"', "3.71 V", "-67 dBm", "0.2.1"):
            assert text in html
    finally:
        scanner.close()


async def test_a_session_that_has_expired_is_sent_back_to_the_login(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await log_in(client)
    assert (await client.get("/")).status_code == 200
    with sqlite3.connect(tmp_path / "gateway.db") as db:  # the session's fixed expiry passes
        db.execute("UPDATE admin_sessions SET expires_ms = 0")
    assert (await client.get("/")).headers["location"] == "/login"
    assert (await client.get("/events")).status_code == 401


async def test_logging_out_ends_the_session_on_the_gateway_too(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    csrf = await log_in(client)
    token = client.cookies["stockwire_session"]
    assert (await client.post("/logout", data={"csrf": csrf})).status_code == 303
    assert db_rows(tmp_path / "gateway.db", "SELECT count(*) FROM admin_sessions") == [(0,)]
    client.cookies.set("stockwire_session", token)  # a copied cookie is worth nothing now
    assert (await client.get("/")).status_code == 303


async def test_a_post_without_the_sessions_csrf_token_changes_nothing(
    client: httpx.AsyncClient, scanners: Any, tmp_path: Path
) -> None:
    db = tmp_path / "gateway.db"
    scanners("hs-01").send_raw(b'{"v":1,"dev":"hs-01","seq":7')  # broken JSON: a dead letter
    await eventually(lambda: db_rows(db, "SELECT id FROM dead_letters"))
    (dead_id,) = db_rows(db, "SELECT id FROM dead_letters")[0]
    await log_in(client)
    fixed = orjson.dumps({"v": 1, "dev": "hs-01", "seq": 7, "ts": 0, "code": "5901234123457",
                          "mode": "pick", "loc": "A-01"}).decode()  # fmt: skip
    url = f"/dead-letters/{dead_id}/replay"
    assert (await client.post(url, data={"payload": fixed})).status_code == 403
    assert (await client.post(url, data={"payload": fixed, "csrf": "guess"})).status_code == 403
    assert (await client.get(url)).status_code == 405  # state changes are POST only
    assert (await client.post("/logout", data={})).status_code == 403
    assert db_rows(db, "SELECT fixed, resolved_ts FROM dead_letters") == [(None, None)]
    assert db_rows(db, "SELECT count(*) FROM scans") == [(0,)]


async def test_a_dead_letter_fixed_and_replayed_reaches_the_ledger_once(
    client: httpx.AsyncClient, scanners: Any, tmp_path: Path, ledger: Any
) -> None:
    db = tmp_path / "gateway.db"
    scanners("hs-01").send_raw(b'{"v":1,"dev":"hs-01","seq":7,"code":"5901234123457"')
    await eventually(lambda: db_rows(db, "SELECT id FROM dead_letters"))
    (dead_id,) = db_rows(db, "SELECT id FROM dead_letters")[0]
    csrf = await log_in(client)
    still_bad = {"csrf": csrf, "payload": '{"v":1,"dev":"hs-01","seq":7}'}
    await client.post(f"/dead-letters/{dead_id}/replay", data=still_bad)
    assert "is still refused" in (await client.get("/")).text
    fixed = orjson.dumps({"v": 1, "dev": "hs-01", "seq": 7, "ts": 0, "code": "5901234123457",
                          "mode": "pick", "loc": "A-01"}).decode()  # fmt: skip
    answer = await client.post(
        f"/dead-letters/{dead_id}/replay", data={"csrf": csrf, "payload": fixed}
    )
    assert answer.status_code == 303
    assert "replayed: stored as scan hs-01:7" in (await client.get("/")).text
    await eventually(lambda: ledger.booked_ids() == ["hs-01:7"])
    assert db_rows(db, "SELECT fixed IS NOT NULL, resolved_ts IS NOT NULL FROM dead_letters") == [
        (1, 1)
    ]
    again = await client.post(f"/dead-letters/{dead_id}/replay", data={"csrf": csrf})
    assert again.status_code == 303
    assert "is not open" in (await client.get("/")).text
    assert db_rows(db, "SELECT count(*) FROM scans") == [(1,)]


async def test_a_dead_letter_that_can_never_be_replayed_is_dismissed_and_kept_for_the_record(
    client: httpx.AsyncClient, scanners: Any, tmp_path: Path
) -> None:
    db = tmp_path / "gateway.db"
    scanners("hs-01").send_raw(b"\x00\xffgarbage")
    await eventually(lambda: db_rows(db, "SELECT id FROM dead_letters"))
    (dead_id,) = db_rows(db, "SELECT id FROM dead_letters")[0]
    csrf = await log_in(client)
    assert 'value="Dismiss"' in (await client.get("/")).text or ">Dismiss<" in (
        await client.get("/")).text  # fmt: skip
    forged = await client.post(f"/dead-letters/{dead_id}/dismiss", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert db_rows(db, "SELECT resolved_ts FROM dead_letters") == [(None,)]
    answer = await client.post(f"/dead-letters/{dead_id}/dismiss", data={"csrf": csrf})
    assert answer.status_code == 303
    page = (await client.get("/")).text
    assert f"Dead letter {dead_id} dismissed" in page and "Dead letters (0 open)" in page
    assert db_rows(db, "SELECT dismissed_by, payload FROM dead_letters") == [
        (ADMIN, b"\x00\xffgarbage")]  # fmt: skip
    metrics = (await client.get("/metrics")).text
    assert "stockwire_dead_letters_open 0.0" in metrics
    replay = await client.post(f"/dead-letters/{dead_id}/replay", data={"csrf": csrf})
    assert replay.status_code == 303 and "is not open" in (await client.get("/")).text


async def test_repeated_failures_lock_the_name_out_even_with_the_right_password(
    make_config: Any, tmp_path: Path, gateway_factory: Any
) -> None:
    running = await gateway_factory(status_config(make_config, tmp_path, login_failures=3))
    async with httpx.AsyncClient(base_url=running.gw.status.url) as client:
        for _ in range(3):
            wrong = await client.post("/login", data={"name": ADMIN, "password": "nope"})
            assert wrong.status_code == 401
        locked = await client.post("/login", data={"name": ADMIN, "password": PASSWORD})
        assert locked.status_code == 429 and "Too many failed logins" in locked.text
        assert "stockwire_session" not in client.cookies


async def test_the_event_stream_pushes_the_pages_live_parts(client: httpx.AsyncClient) -> None:
    await log_in(client)
    async with client.stream("GET", "/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                parts = orjson.loads(line[6:])
                break
    assert set(parts) == {"summary", "scanners", "chart", "dead"}
    assert "Buffer (unsent)" in parts["summary"] and "<svg" in parts["chart"]


async def test_metrics_show_the_same_figures_without_a_login(
    client: httpx.AsyncClient, broker: Any, scanners: Any, tmp_path: Path, ledger: Any
) -> None:
    status = StatusClient(broker, "hs-02")
    hs01 = scanners("hs-01")
    try:
        status.online(bat_mv=3650, rssi=-70, outbox=2)
        hs01.scan(1)
        hs01.send_raw(b"not json")
        db = tmp_path / "gateway.db"
        await eventually(lambda: len(db_rows(db, "SELECT 1 FROM devices")) == 1
                         and len(db_rows(db, "SELECT 1 FROM dead_letters")) == 1)  # fmt: skip
        await eventually(lambda: ledger.booked_ids() == ["hs-01:1"])
        answer = await client.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples
        }
        assert samples[("stockwire_scanners_online", ())] == 1
        assert samples[("stockwire_scanner_battery_millivolts", (("dev", "hs-02"),))] == 3650
        assert samples[("stockwire_scanner_rssi_dbm", (("dev", "hs-02"),))] == -70
        assert samples[("stockwire_scanner_outbox", (("dev", "hs-02"),))] == 2
        assert samples[("stockwire_buffer_pending", ())] == 0
        assert samples[("stockwire_buffer_oldest_unsent_seconds", ())] == 0
        assert samples[("stockwire_forwarded_total", ())] == 1
        assert ("stockwire_ledger_errors_total", ()) in samples
        assert samples[("stockwire_dead_letters_open", ())] == 1
        assert samples[("stockwire_buffer_disk_used_bytes", ())] > 0
    finally:
        status.close()


def test_admin_add_asks_nothing_with_password_stdin_and_keeps_only_a_hash(
    tmp_path: Path,
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('site = "site1"\ngateway_id = "gw-1"\n\n[status]\nport = 0\n')
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "admin", "add", "bob", "--config", str(config),
         "--password-stdin"],
        input="s3cret enough\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    users = tmp_path / "admins.toml"
    assert oct(users.stat().st_mode & 0o777) == "0o600"
    assert "s3cret" not in users.read_text()
    admins = read_admins(users)
    assert admins["bob"].startswith("$argon2id$")
    assert check_password(admins, "bob", "s3cret enough")
    assert not check_password(admins, "bob", "s3cret")


async def test_the_dock_reader_shows_on_the_page_and_in_metrics(
    make_config: Any, tmp_path: Path, gateway_factory: Any
) -> None:
    users = tmp_path / "admins.toml"
    add_admin(users, ADMIN, PASSWORD)
    replay = tmp_path / "dock.fifo"  # a FIFO: the reader waits for a writer, forever
    os.mkfifo(replay)
    config = make_config(
        None,
        status={"port": 0, "users_file": str(users)},
        dock={"device": "dock-1", "replay": str(replay), "mode": "receive", "loc": "DOCK"},
    )
    running = await gateway_factory(config)
    async with httpx.AsyncClient(base_url=running.gw.status.url) as client:
        await log_in(client)
        summary = (await client.get("/")).text
        assert "Dock dock-1" in summary and "receive · DOCK" in summary
        metrics = (await client.get("/metrics")).text
        assert "stockwire_dock_connected " in metrics


async def test_a_full_buffer_shows_as_full_on_the_page_and_in_metrics(
    make_config: Any, tmp_path: Path, gateway_factory: Any, scanners: Any, ledger: Any
) -> None:
    users = tmp_path / "admins.toml"
    add_admin(users, ADMIN, PASSWORD)
    ledger.status = 503  # away: nothing leaves the buffer
    buffer = {"cap_mb": 0.5, "alarm_pct": 50, "commit_max": 5}
    config = make_config(ledger, buffer=buffer, status={"port": 0, "users_file": str(users)})
    running = await gateway_factory(config)
    hs = scanners("hs-01")
    for seq in range(1, 600):
        hs.scan(seq, code="4" * 900 + str(seq))
    await hs.wait_for(lambda s: bool(s.acked("retry")), timeout=60)
    async with httpx.AsyncClient(base_url=running.gw.status.url) as client:
        samples = {
            s.name: s.value
            for family in text_string_to_metric_families((await client.get("/metrics")).text)
            for s in family.samples
            if not s.labels
        }
        assert (samples["stockwire_buffer_full"], samples["stockwire_buffer_disk_alarm"]) == (1, 1)
        assert samples["stockwire_buffer_disk_cap_bytes"] == 512 * 1024
        await log_in(client)
        page = (await client.get("/")).text
        assert "of 0.5 MiB: <strong" in page and "FULL, scanners keep their scans" in page


async def test_an_oversized_form_is_refused_as_too_large_and_a_huge_id_as_unknown(
    client: httpx.AsyncClient,
) -> None:
    csrf = await log_in(client)
    huge = await client.post("/dead-letters/1/fix", data={"csrf": csrf, "payload": "x" * 200_000})
    assert huge.status_code == 413 and "larger than" in huge.text
    beyond = await client.post(f"/dead-letters/{10**23}/dismiss", data={"csrf": csrf})
    assert beyond.status_code == 404
