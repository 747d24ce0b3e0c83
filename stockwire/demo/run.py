"""The whole system on one machine, playing a warehouse shift.

Owns the demo's life cycle: start Mosquitto (the product's config, a free loopback port, its
own data dir), the ledger, the gateway (both as stockwire.processes starts them), three
handhelds on the MicroPython unix port, the dock reader's replay and a webhook receiver; load
the catalog, stocktake, purchase orders and channels; play the shift only through barcode
reads; then stop everything cleanly.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker import BrokerSite
from gateway.dock import encode_text, write_input_events
from gateway.status.auth import add_admin
from stockwire import firmware
from stockwire.demo.handheld import Handheld
from stockwire.demo.receiver import WebhookReceiver
from stockwire.demo.scenario import Scenario, Step
from stockwire.processes import Gateway, Ledger, Mosquitto, free_port
from stockwire.wire import topic

SITE = "site1"
GATEWAY_ID = "gw-1"


@dataclass
class DemoOptions:
    workdir: Path
    kill_gateway_in_step: int | None = None  # kill -9 the gateway mid-way through this step
    log: Callable[[str], None] = print
    timeout_s: float = 60.0


@dataclass
class Tally:
    """What the demo saw happen, beside what the ledger says."""

    reads: int = 0
    events_expected: dict[str, int] = field(default_factory=dict)
    redelivered: list[tuple[str, int]] = field(default_factory=list)
    gateway_kills: int = 0


class Demo:
    def __init__(self, scenario: Scenario, options: DemoOptions) -> None:
        self.scenario = scenario
        self.opt = options
        self.work = options.workdir
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "logs").mkdir(exist_ok=True)
        self.site = BrokerSite(SITE)
        self.gateway_account = self.site.add(GATEWAY_ID, "gateway")
        self.monitor_account = self.site.add("demo-monitor", "monitor")
        self.scanner_passwords = {
            dev: self.site.add(dev, "scanner").password for dev in scenario.handhelds
        }
        self.broker = Mosquitto(self.work / "broker", self.site)
        self.ledger = Ledger(self.work, [GATEWAY_ID], self.work / "logs" / "ledger.log")
        self.ledger_url = self.ledger.url
        self.admin_token = self.ledger.admin_token
        status_port = free_port()
        self.status_url = f"http://127.0.0.1:{status_port}"
        self.status_password = secrets.token_urlsafe(12)  # the status page's admin login
        self.channel_secrets = {
            c["name"]: secrets.token_urlsafe(24) for c in scenario.raw.get("channels", [])
        }
        self.receiver = WebhookReceiver(self.channel_secrets)
        self.handhelds: dict[str, Handheld] = {}
        self.dock_fifos = {dock: self.work / f"{dock}.fifo" for dock in scenario.docks}
        dock = scenario.docks[0] if scenario.docks else ""
        self.gateway = Gateway(
            self.work,
            SITE,
            GATEWAY_ID,
            self.gateway_account.password,
            self.broker.port,
            self.ledger,
            self.work / "logs" / "gateway.log",
            status_port,
            f'[dock]\ndevice = "{dock}"\nreplay = "{self.dock_fifos[dock]}"\n' if dock else "",
        )
        self.monitor: mqtt.Client | None = None
        self.published: dict[str, list[bytes]] = {}
        self._published_lock = threading.Lock()
        self.tally = Tally()
        self.api = httpx.Client(
            base_url=self.ledger_url,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10.0,
        )

    # ---- processes ----------------------------------------------------------------------

    def _write_configs(self) -> None:
        add_admin(self.work / "admins.toml", "admin", self.status_password)

    def start(self) -> None:
        self._write_configs()
        for fifo in self.dock_fifos.values():
            if not fifo.exists():
                os.mkfifo(fifo)
        self.opt.log(f"broker    mosquitto on 127.0.0.1:{self.broker.port}")
        self.broker.start()
        self.receiver.start()
        self.opt.log(f"channel   webhook receiver on 127.0.0.1:{self.receiver.port}")
        self.ledger.start()
        self.opt.log(f"ledger    {self.ledger_url}/docs")
        self._start_monitor()
        self.start_gateway()
        tree = firmware.build(self.work / "firmware")
        for dev in self.scenario.handhelds:
            hh = Handheld(self.work, tree, dev, SITE, self.broker.port, self.scanner_passwords[dev])
            hh.start()
            self.handhelds[dev] = hh
        for hh in self.handhelds.values():
            hh.wait_for("CONNECTED", timeout=20)
        self.opt.log(
            f"scanners  {', '.join(self.handhelds)} (firmware on the MicroPython unix port)"
        )

    def start_gateway(self) -> None:
        self.gateway.start()

    def kill_gateway(self) -> None:
        self.gateway.kill()
        self.tally.gateway_kills += 1

    def _start_monitor(self) -> None:
        """An admin's read-only view: records every scan message (for the redelivery step)."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="demo-monitor")
        client.username_pw_set(self.monitor_account.username, self.monitor_account.password)

        def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
            dev = msg.topic.rsplit("/", 1)[-1]
            with self._published_lock:
                self.published.setdefault(dev, []).append(bytes(msg.payload))

        def on_connect(c: mqtt.Client, *_: Any) -> None:
            c.subscribe(topic(SITE, "scan", "+"), qos=1)

        client.on_message = on_message
        client.on_connect = on_connect
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        self.monitor = client

    def stop(self) -> None:
        for hh in self.handhelds.values():
            with contextlib.suppress(Exception):
                hh.stop()
        if self.monitor:
            self.monitor.loop_stop()
            self.monitor.disconnect()
        self.gateway.stop()
        self.ledger.stop()
        with contextlib.suppress(Exception):
            self.receiver.stop()
        self.broker.stop()
        self.api.close()

    # ---- master data --------------------------------------------------------------------

    def _post(self, path: str, doc: dict[str, Any]) -> Any:
        response = self.api.post(path, json=doc)
        if response.status_code >= 300:
            raise RuntimeError(f"POST {path} -> {response.status_code}: {response.text}")
        return response.json()

    def load(self) -> None:
        raw = self.scenario.raw
        for code in raw["locations"]:
            self._post("/v1/locations", {"code": code})
        for item in raw["catalog"]:
            doc = {
                "sku": item["sku"],
                "name": item["name"],
                "unit_cost": item["unit_cost"],
                "gtins": [{"gtin": item["gtin"], "multiplier": 1}],
            }
            for key in ("reorder_point", "reorder_qty"):
                if key in item:
                    doc[key] = item[key]
            self._post("/v1/skus", doc)
        for channel in raw.get("channels", []):
            self._post(
                "/v1/channels",
                {
                    "name": channel["name"],
                    "kind": channel["kind"],
                    "url": self.receiver.url(channel["name"]),
                    "secret": self.channel_secrets[channel["name"]],
                    "safety_stock": channel.get("safety_stock", 0),
                    "locations": channel.get("locations", "all"),
                },
            )
        self._post("/v1/stocktakes", {"ref": "BASELINE", "lines": raw["baseline_stocktake"]})
        for po in raw["purchase_orders"]:
            self._post("/v1/purchase-orders", po | {"submit": True})  # receivable at once
        self.opt.log(
            f"loaded    {len(raw['catalog'])} SKUs, {len(raw['locations'])} locations, "
            f"baseline stocktake, {len(raw['purchase_orders'])} purchase order(s)"
        )

    # ---- the shift ----------------------------------------------------------------------

    def processed(self, dev: str) -> int:
        response = self.api.get("/v1/scan-events", params={"dev": dev, "limit": 10000})
        response.raise_for_status()
        return len(response.json()["events"])

    def wait_processed(self, dev: str, count: int) -> None:
        deadline = time.monotonic() + self.opt.timeout_s
        while (seen := self.processed(dev)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dev}: {seen} of {count} scans processed by the ledger")
            time.sleep(0.05)

    def play(self) -> None:
        for number, step in enumerate(self.scenario.steps(), 1):
            if step.redeliver_last:
                self.redeliver(step.who, step.redeliver_last)
                continue
            self._read(step, kill_gateway=(number == self.opt.kill_gateway_in_step))
            expected = self.tally.events_expected.get(step.who, 0) + step.events
            self.tally.events_expected[step.who] = expected
            self.wait_processed(step.who, expected)
            self.opt.log(
                f"step {number:>2}  {step.who:<6} {step.events:>3} scans  {step.describe()}"
            )

    def _read(self, step: Step, kill_gateway: bool) -> None:
        self.tally.reads += len(step.reads)
        half = len(step.reads) // 2 if kill_gateway else len(step.reads)
        self._feed(step.who, step.reads[:half])
        if kill_gateway:
            time.sleep(0.2)
            self.kill_gateway()
            self.opt.log("chaos     gateway killed with SIGKILL mid-step")
            self._feed(step.who, step.reads[half:])
            time.sleep(0.3)
            self.start_gateway()
            self.opt.log("chaos     gateway restarted")

    def _feed(self, who: str, reads: list[str]) -> None:
        if not reads:
            return
        if who in self.handhelds:
            self.handhelds[who].read(*reads)
            return
        events = [e for code in reads for e in encode_text(code)]
        with open(self.dock_fifos[who], "wb") as fifo:
            write_input_events(fifo, events)

    def redeliver(self, dev: str, last: int) -> None:
        """The gateway gets the device's last messages again, as after a lost ack.

        The scanner is switched off meanwhile: the broker lets one connection per login.
        """
        with self._published_lock:
            payloads = list(self.published.get(dev, []))[-last:]
        before = self.processed(dev)
        handheld = self.handhelds.get(dev)
        if handheld:
            handheld.stop()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=dev)
        client.username_pw_set(dev, self.scanner_passwords[dev])
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        for payload in payloads:
            client.publish(topic(SITE, "scan", dev), payload, qos=1).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
        seqs = [int(json.loads(p)["seq"]) for p in payloads]
        self.tally.redelivered = [(dev, s) for s in seqs]
        self._wait_receptions(dev, seqs, 2)
        if handheld:
            connects = len(handheld.seen("CONNECTED"))
            handheld.start()
            handheld.wait_for("CONNECTED", count=connects + 1, timeout=20)
        after = self.processed(dev)
        self.opt.log(
            f"redeliver {dev}: scans {', '.join(map(str, seqs))} reached the gateway a second "
            f"time; stored once, booked once ({dev} has {after} scans booked or refused, "
            f"as before: {before})"
        )

    def receptions(self, dev: str, seqs: list[int]) -> dict[int, int]:
        with contextlib.closing(
            sqlite3.connect(f"file:{self.work / 'gateway.db'}?mode=ro", uri=True, timeout=5)
        ) as db:
            marks = ",".join("?" * len(seqs))
            rows = db.execute(
                f"SELECT seq, receptions FROM scans WHERE dev = ? AND seq IN ({marks})",
                [dev, *seqs],
            ).fetchall()
        return {int(seq): int(n) for seq, n in rows}

    def _wait_receptions(self, dev: str, seqs: list[int], at_least: int) -> None:
        deadline = time.monotonic() + self.opt.timeout_s
        while True:
            seen = self.receptions(dev, seqs)
            if len(seen) == len(seqs) and all(n >= at_least for n in seen.values()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"redelivered {dev} seqs not all seen again: {seen}")
            time.sleep(0.05)

    def wait_channels_settled(self, timeout: float = 15.0) -> None:
        """Until no channel has a push pending and each receiver holds what the ledger sent."""
        deadline = time.monotonic() + timeout
        while True:
            channels = self.api.get("/v1/channels").json()["channels"]
            received = self.receiver.last_push()
            sent = {
                c["name"]: {sku: p["available"] for sku, p in c["last_pushed"].items()}
                for c in channels
            }
            if not any(c["pending"] for c in channels) and sent == received:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"channels not settled: ledger sent {sent}, got {received}")
            time.sleep(0.05)


@contextlib.contextmanager
def running(scenario: Scenario, options: DemoOptions) -> Iterator[Demo]:
    demo = Demo(scenario, options)
    try:
        demo.start()
        yield demo
    finally:
        demo.stop()
