"""Mosquitto with the config the product ships: who may publish and read what."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker import BrokerSite, hash_password
from stockwire.processes import Mosquitto
from stockwire.wire import topic


@pytest.fixture
def broker(tmp_path: Path):
    site = BrokerSite("site1")
    site.add("gw-1", "gateway", "gw-secret")
    site.add("hs-01", "scanner", "hs01-secret")
    site.add("hs-02", "scanner", "hs02-secret")
    with Mosquitto(tmp_path, site) as running:
        yield running


def connect(port: int, user: str | None, password: str | None, client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if user:
        client.username_pw_set(user, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def connack(port: int, user: str | None, password: str | None) -> str:
    result: list[str] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{user}")
    if user:
        client.username_pw_set(user, password)

    def on_connect(_c, _u, _f, reason, _p) -> None:  # type: ignore[no-untyped-def]
        result.append(str(reason))
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    done.wait(5)
    client.loop_stop()
    client.disconnect()
    return result[0] if result else "no answer"


def collect(client: mqtt.Client, pattern: str) -> list[str]:
    got: list[str] = []
    client.on_message = lambda _c, _u, msg: got.append(msg.topic)
    client.subscribe(pattern, qos=1)
    time.sleep(0.3)
    return got


def test_passwords_are_written_in_mosquittos_own_pbkdf2_form() -> None:
    # a line mosquitto_passwd 2.0 wrote for alice/secret, recomputed from its salt
    written = (
        "$7$101$bVpdlCc8ztqhFoV9$eOHhuVzv++C7xMHEiR1/qhAg4Y4SbhSZmd7VExSDC9ugQsfgBb5t3deFkEEZ4CO/"
        "179NV2d1hNWOYU0Z9pMeyQ=="
    )
    assert hash_password("secret", salt=base64.b64decode("bVpdlCc8ztqhFoV9")) == written


def test_anonymous_and_wrong_password_clients_are_refused(broker: Mosquitto) -> None:
    assert connack(broker.port, None, None) == "Not authorized"
    assert connack(broker.port, "hs-01", "wrong") == "Not authorized"
    assert connack(broker.port, "hs-01", "hs01-secret") == "Success"


def test_a_scanner_cannot_publish_as_another_scanner(broker: Mosquitto) -> None:
    gateway = connect(broker.port, "gw-1", "gw-secret", "gw-1")
    got = collect(gateway, topic("site1", "scan", "+"))
    scanner = connect(broker.port, "hs-01", "hs01-secret", "hs-01")
    scanner.publish(topic("site1", "scan", "hs-02"), b"forged", qos=1).wait_for_publish(5)
    scanner.publish(topic("site1", "scan", "hs-01"), b"mine", qos=1).wait_for_publish(5)
    time.sleep(0.5)
    assert got == [topic("site1", "scan", "hs-01")]


def test_a_scanner_cannot_read_another_scanners_acks(broker: Mosquitto) -> None:
    spy = connect(broker.port, "hs-01", "hs01-secret", "hs-01")
    spied = collect(spy, topic("site1", "ack", "+"))
    owner = connect(broker.port, "hs-02", "hs02-secret", "hs-02")
    mine = collect(owner, topic("site1", "ack", "hs-02"))
    gateway = connect(broker.port, "gw-1", "gw-secret", "gw-1")
    gateway.publish(topic("site1", "ack", "hs-02"), b"{}", qos=1).wait_for_publish(5)
    time.sleep(0.5)
    assert mine == [topic("site1", "ack", "hs-02")]
    assert spied == []


def test_a_revoked_scanner_is_refused_after_a_reload(broker: Mosquitto) -> None:
    broker.site.accounts = [a for a in broker.site.accounts if a.username != "hs-02"]
    broker.reload()
    time.sleep(0.5)
    assert connack(broker.port, "hs-02", "hs02-secret") == "Not authorized"
