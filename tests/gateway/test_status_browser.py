"""The status page in a real browser: Debian's chromium, headless, driven by Playwright for
Python over its own protocol (never `playwright install`: the browser is the system's).

An admin logs in on a phone-sized screen, watches a scanner go offline (its last will through
the real Mosquitto) and online again without reloading, and fixes and replays a dead letter
that then reaches the ledger. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.gateway.conftest import db_rows, eventually
from tests.gateway.statuskit import ADMIN, PASSWORD, StatusClient, status_config

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 15_000


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run tools/system-packages.sh"
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        await b.close()


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"status-{name}.png"), full_page=True)


async def test_an_admin_on_a_phone_sees_a_scanner_drop_and_return_and_replays_a_dead_letter(
    browser: Browser,
    make_config: Any,
    tmp_path: Path,
    gateway_factory: Any,
    ledger: Any,
    broker: Any,
    scanners: Any,
) -> None:
    running = await gateway_factory(status_config(make_config, tmp_path, ledger))
    db = tmp_path / "gateway.db"
    hs01 = StatusClient(broker, "hs-01")
    hs01.online()
    scanners("hs-02").send_raw(b'{"v":1,"dev":"hs-02","seq":7,"code":"5901234123457"')
    await eventually(lambda: db_rows(db, "SELECT dev FROM devices") == [("hs-01",)])
    await eventually(lambda: db_rows(db, "SELECT id FROM dead_letters"))
    (dead_id,) = db_rows(db, "SELECT id FROM dead_letters")[0]

    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    base = running.gw.status.url
    await page.goto(base + "/")
    assert page.url == base + "/login"
    await page.fill("#name", ADMIN)
    await page.fill("#password", "not the password")
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=Wrong name or password.")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#live-state:text('live')")  # the event stream is open
    await page.wait_for_selector('#scanner-hs-01[data-online="yes"]')
    fits = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the page scrolls sideways on a phone"
    await shot(page, "1-logged-in")

    hs01.drop()  # no DISCONNECT: the broker publishes the retained last will
    await page.wait_for_selector('#scanner-hs-01[data-online="no"]')  # pushed, not reloaded
    await shot(page, "2-scanner-offline")
    back = StatusClient(broker, "hs-01")
    try:
        back.online(bat_mv=3650)
        await page.wait_for_selector('#scanner-hs-01[data-online="yes"]')
        assert "3.65 V" in await page.inner_text("#scanner-hs-01")
        await shot(page, "3-scanner-online")

        fixed = {"v": 1, "dev": "hs-02", "seq": 7, "ts": 0, "code": "5901234123457",
                 "mode": "pick", "loc": "A-01"}  # fmt: skip
        await page.fill(f"#payload-{dead_id}", orjson.dumps(fixed).decode())
        await shot(page, "4-dead-letter-fixed")
        await page.click(f"#dead-{dead_id} button.primary")  # REPLAY
        await page.wait_for_selector("#note:text('replayed: stored as scan hs-02:7')")
        assert await page.query_selector(f"#dead-{dead_id}") is None
        await eventually(lambda: ledger.booked_ids() == ["hs-02:7"])
        await shot(page, "5-dead-letter-replayed")

        await page.click("text=Log out")
        await page.wait_for_url(base + "/login")
    finally:
        back.close()
        await context.close()
