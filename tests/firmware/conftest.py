"""Fixtures for the firmware tests: a real Mosquitto with the product's auth and ACL, a paho
client playing the gateway, and scanners running the real firmware on the unix port."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from gateway.broker import BrokerSite
from stockwire import firmware
from stockwire.processes import Mosquitto
from stockwire.wire import ack_payload, topic

from .scanner import Scanner

collect_ignore = ["mp"]  # MicroPython scripts, run by tools.firmware_check


class FakeGateway:
    """Reads every scan of site1 and publishes acks, like the gateway does."""

    def __init__(self, port: int, password: str) -> None:
        self.scans: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="gw-test")
        self.c.username_pw_set("gw", password)
        self.c.on_message = lambda c, u, m: self.scans.put((m.topic, m.payload))
        self.c.on_connect = lambda c, u, f, rc, p=None: c.subscribe(
            "stockwire/v1/site1/scan/+", qos=1
        )
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def next_scan(self, timeout: float = 10.0) -> tuple[str, bytes]:
        return self.scans.get(timeout=timeout)

    def no_scan(self, wait: float) -> None:
        with pytest.raises(queue.Empty):
            self.scans.get(timeout=wait)

    def ack(self, dev: str, seqs: list[int], status: str = "stored", reason: str = "") -> None:
        self.c.publish(topic("site1", "ack", dev), ack_payload(seqs, status, reason), qos=1)  # type: ignore[arg-type]

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    site = BrokerSite("site1")
    site.add("hs-01", "scanner")
    site.add("gw", "gateway")
    with Mosquitto(tmp_path / "broker", site) as m:
        yield m


def _password(broker: Mosquitto, user: str) -> str:
    return next(a.password for a in broker.site.accounts if a.username == user)


@pytest.fixture
def gateway(broker: Mosquitto) -> Iterator[FakeGateway]:
    gw = FakeGateway(broker.port, _password(broker, "gw"))
    time.sleep(0.2)
    yield gw
    gw.close()


@pytest.fixture(scope="session")
def firmware_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The firmware built once per session, as it is deployed (.mpy modules)."""
    return firmware.build(tmp_path_factory.mktemp("fw") / "tree")


@pytest.fixture
def make_scanner(tmp_path: Path, broker: Mosquitto, firmware_tree: Path) -> Iterator:
    made: list[Scanner] = []

    def make(**extra: object) -> Scanner:
        s = Scanner(
            firmware_tree, tmp_path / "hs-01", broker.port, _password(broker, "hs-01"), **extra
        )
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def doc(payload: bytes) -> dict:
    return json.loads(payload)
