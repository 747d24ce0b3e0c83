"""The gateway hands a scanner its config and the clock on config/<dev> when it comes online,
against a real Mosquitto with the product's ACL."""

from __future__ import annotations

import queue
import time
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.config import ConfigError, parse
from stockwire.processes import Mosquitto
from stockwire.wire import topic
from tests.gateway.conftest import SITE, config_doc


class Handheld:
    """A scanner's login as the firmware uses it: subscribed to its config, sending status."""

    def __init__(self, broker: Mosquitto, dev: str) -> None:
        self.dev = dev
        self.got: queue.Queue[tuple[dict[str, Any], bool]] = queue.Queue()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=dev)
        c.username_pw_set(dev, f"{dev}-secret")
        c.will_set(topic(SITE, "status", dev), b'{"online":false}', qos=1, retain=True)
        c.on_message = lambda c, u, m: self.got.put((orjson.loads(m.payload), bool(m.retain)))
        subscribed = queue.Queue[int]()
        c.on_subscribe = lambda *a: subscribed.put(1)
        c.on_connect = lambda c, *a: c.subscribe(topic(SITE, "config", dev), 1)
        c.connect("127.0.0.1", broker.port)
        c.loop_start()
        subscribed.get(timeout=10)
        self.c = c

    def status(self, online: bool = True, boot: int = 1) -> None:
        doc = {"online": True, "fw": "0.1.0", "bat_mv": 3900, "rssi": -50, "outbox": 0,
               "uptime": 1, "boot": boot, "seq": 0} if online else {"online": False}  # fmt: skip
        self.c.publish(topic(SITE, "status", self.dev), orjson.dumps(doc), qos=1, retain=True)

    def config(self, timeout: float = 10.0) -> tuple[dict[str, Any], bool]:
        return self.got.get(timeout=timeout)

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


async def test_a_scanner_coming_online_gets_its_config_and_a_fresh_clock(
    make_config: Any, gateway_factory: Any, broker: Mosquitto
) -> None:
    await gateway_factory(
        make_config(scanners={"heartbeat_s": 30, "volume": 2, "hs-02": {"volume": 3}})
    )
    hs1, hs2 = Handheld(broker, "hs-01"), Handheld(broker, "hs-02")
    try:
        hs1.status()
        doc, retained = hs1.config()
        assert not retained  # live: the firmware takes its clock only from a live copy
        assert abs(doc.pop("t") - time.time() * 1000) < 5000
        assert doc == {"heartbeat_s": 30, "volume": 2}
        hs2.status()
        doc, _ = hs2.config()
        assert doc["volume"] == 3 and doc["heartbeat_s"] == 30  # its own over the defaults

        hs1.status()  # a heartbeat: nothing new
        with pytest.raises(queue.Empty):
            hs1.config(timeout=1.0)
        hs1.status(online=False)  # its last will, then a reconnect: a fresh clock
        time.sleep(0.3)
        hs1.status()
        again, _ = hs1.config()
        assert again["t"] > 0 and again["heartbeat_s"] == 30
        hs1.status(boot=2)  # restarted between two heartbeats (no will seen): again
        assert hs1.config()[0]["volume"] == 2
    finally:
        hs1.close()
        hs2.close()

    late = Handheld(broker, "hs-01")  # the retained copy waits for its next connect
    try:
        doc, retained = late.config()
        assert retained and doc["heartbeat_s"] == 30
    finally:
        late.close()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"volume": 4}, r"\[scanners\] volume must be a whole number 0..3, got 4"),
        ({"heartbeat_s": 1.5}, r"\[scanners\] heartbeat_s must be a whole number"),
        ({"beep": 1}, r"\[scanners\] has unknown keys: beep"),
        ({"hs-01": {"battery_cal": [2, 0]}}, r"\[scanners.hs-01\] battery_cal must be"),
        ({"hs-01": {"t": 1}}, r"\[scanners.hs-01\] has unknown keys: t"),
    ],
)
def test_scanner_settings_the_firmware_would_refuse_stop_the_gateway_at_load(
    tmp_path: Any, broker: Mosquitto, table: dict[str, Any], message: str
) -> None:
    doc = config_doc(tmp_path, broker, None)
    with pytest.raises(ConfigError, match=message):
        parse({**doc, "scanners": table})
