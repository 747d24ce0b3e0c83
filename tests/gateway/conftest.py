"""Real parts for the gateway's tests: a Mosquitto with the site's accounts, a loopback ledger,
config files in tmp_path, an in-process gateway, and scanners that behave like the firmware
(outbox kept until the `stored` ack, re-sent on a timer).

Child processes (the broker, a gateway process) are started so that they die with the test
process even when it is killed without running its fixtures' teardown (SIGKILL, or SIGTERM
from a `timeout` wrapper), so no Mosquitto is left behind under /tmp/pytest-of-*.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway import app
from gateway.broker import BrokerSite
from gateway.config import GatewayConfig, parse
from stockwire.processes import Mosquitto
from stockwire.wire import ScanEvent, encode_scan, topic
from tests.gateway.fakeledger import FakeLedger

SITE = "site1"
SCANNERS = ("hs-01", "hs-02", "hs-03")


@pytest.fixture
def site() -> BrokerSite:
    s = BrokerSite(SITE)
    s.add("gw-1", "gateway", "gw-secret")
    for name in SCANNERS:
        s.add(name, "scanner", f"{name}-secret")
    return s


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGKILL when the thread that started it ends."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent is already gone
        os._exit(1)


class OwnedMosquitto(Mosquitto):
    """The product's broker start, with the child tied to this (main-thread) test process."""

    def start(self) -> None:
        popen = subprocess.Popen

        def owned(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
            return popen(*args, preexec_fn=die_with_parent, **kwargs)

        with mock.patch("stockwire.processes.subprocess.Popen", owned):
            super().start()


@pytest.fixture
def broker(tmp_path: Path, site: BrokerSite) -> Iterator[Mosquitto]:
    with OwnedMosquitto(tmp_path / "broker", site) as m:
        yield m


@pytest.fixture
def ledger() -> Iterator[FakeLedger]:
    fake = FakeLedger().start()
    yield fake
    fake.stop()


def config_doc(tmp_path: Path, broker: Mosquitto, ledger: FakeLedger | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "site": SITE,
        "gateway_id": "gw-1",
        "mqtt": {"host": "127.0.0.1", "port": broker.port, "username": "gw-1",
                 "password": "gw-secret"},
        "buffer": {"path": str(tmp_path / "gateway.db")},
    }  # fmt: skip
    if ledger is not None:
        doc["ledger"] = {"url": ledger.url, "token": ledger.token, "batch_max": 50,
                         "batch_age_ms": 20, "timeout_s": 5, "backoff_min_s": 0.05,
                         "backoff_max_s": 0.3}  # fmt: skip
    return doc


def toml(doc: dict[str, Any]) -> str:
    """Enough TOML for our config documents (tables of scalars)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return orjson.dumps(v).decode()
        return str(v)

    lines = [f"{k} = {value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]", *(f"{kk} = {value(vv)}" for kk, vv in v.items())]
    return "\n".join(lines) + "\n"


class Running:
    """An in-process gateway on the test's event loop."""

    def __init__(self, gw: app.Gateway, task: asyncio.Task[None]) -> None:
        self.gw = gw
        self.task = task

    async def stop(self) -> None:
        self.gw.stop.set()
        await asyncio.wait_for(self.task, 15)


async def start_gateway(config: GatewayConfig) -> Running:
    gw = await app.build(config)
    running = Running(gw, asyncio.create_task(app.serve(gw)))
    await asyncio.to_thread(gw.intake.connected.wait, 10)
    return running


@pytest.fixture
async def gateway_factory() -> AsyncIterator[Any]:
    started: list[Running] = []

    async def factory(config: GatewayConfig) -> Running:
        running = await start_gateway(config)
        started.append(running)
        return running

    yield factory
    for running in started:
        if not running.task.done():
            await running.stop()


@pytest.fixture
def make_config(tmp_path: Path, broker: Mosquitto) -> Any:
    def make(ledger: FakeLedger | None = None, /, **sections: dict[str, Any]) -> GatewayConfig:
        doc = config_doc(tmp_path, broker, ledger)
        for name, values in sections.items():
            doc[name] = {**doc.get(name, {}), **values}
        return parse(doc)

    return make


class Scanner:
    """A handheld as the gateway sees it: publishes scans, keeps them until `stored` acks."""

    def __init__(self, broker: Mosquitto, dev: str, password: str | None = None,
                 db_path: Path | None = None) -> None:  # fmt: skip
        self.dev = dev
        self.acks: list[dict[str, Any]] = []
        self.outbox: dict[int, bytes] = {}
        self.seen_in_db: list[bool] = []  # per stored ack: were its rows committed already?
        self._db_path = db_path
        self._lock = threading.RLock()
        self.cond = threading.Condition(self._lock)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{dev}")
        self.client.username_pw_set(dev, password or f"{dev}-secret")
        self.client.max_inflight_messages_set(1000)
        self.client.on_message = self._on_ack
        subscribed = threading.Event()
        self.client.on_connect = lambda c, *a: c.subscribe(topic(SITE, "ack", dev), 1)
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), f"{dev} could not subscribe"
        self._resender: threading.Thread | None = None
        self._stop = threading.Event()

    def _on_ack(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        doc = orjson.loads(message.payload)
        seqs = [s for first, last in doc["seqs"] for s in range(first, last + 1)]
        if doc["status"] == "stored" and self._db_path is not None:
            with sqlite3.connect(self._db_path) as db:
                marks = ",".join("?" * len(seqs))
                n = db.execute(
                    f"SELECT count(*) FROM scans WHERE dev = ? AND seq IN ({marks})",
                    (self.dev, *seqs),
                ).fetchone()[0]
            self.seen_in_db.append(n == len(seqs))
        with self.cond:
            self.acks.append(doc)
            if doc["status"] in ("stored", "refused"):
                for s in seqs:
                    self.outbox.pop(s, None)
            self.cond.notify_all()

    def scan(self, seq: int, code: str = "5901234123457", **fields: Any) -> bytes:
        event = ScanEvent(dev=fields.pop("dev", self.dev), seq=seq, code=code,
                          mode=fields.pop("mode", "pick"), loc=fields.pop("loc", "A-01"),
                          ts=int(time.time() * 1000), **fields)  # fmt: skip
        payload = encode_scan(event)
        self.send_raw(payload, seq)
        return payload

    def send_raw(self, payload: bytes, seq: int | None = None) -> None:
        if seq is not None:
            with self.cond:
                self.outbox[seq] = payload
        self.client.publish(topic(SITE, "scan", self.dev), payload, qos=1)

    def resend_every(self, seconds: float) -> None:
        def loop() -> None:
            while not self._stop.wait(seconds):
                with self.cond:
                    pending = sorted(self.outbox.items())
                for _, payload in pending:
                    self.client.publish(topic(SITE, "scan", self.dev), payload, qos=1)

        self._resender = threading.Thread(target=loop, daemon=True)
        self._resender.start()

    def acked(self, status: str) -> set[int]:
        with self.cond:
            return {s for a in self.acks if a["status"] == status
                    for first, last in a["seqs"] for s in range(first, last + 1)}  # fmt: skip

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        def wait() -> bool:
            with self.cond:
                return self.cond.wait_for(lambda: predicate(self), timeout)

        assert await asyncio.to_thread(wait), f"{self.dev}: timed out; acks={self.acks[-5:]}"

    def close(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def scanners(broker: Mosquitto, tmp_path: Path) -> Iterator[Any]:
    made: list[Scanner] = []

    def make(dev: str, password: str | None = None) -> Scanner:
        s = Scanner(broker, dev, password, tmp_path / "gateway.db")
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


async def eventually(check: Any, timeout: float = 10.0, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)


def db_rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql, params).fetchall()
