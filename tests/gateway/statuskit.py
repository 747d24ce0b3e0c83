"""Parts the status page's tests share: a gateway config with `[status]` and an admin, a
logged-in HTTP client, and a scanner's retained status with its last will on the real broker."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.config import GatewayConfig
from gateway.status.auth import add_admin
from stockwire.processes import Mosquitto
from stockwire.wire import topic
from tests.gateway.conftest import SITE

ADMIN, PASSWORD = "alice", "correct horse battery"


def status_config(make_config: Any, tmp_path: Path, ledger: Any = None,
                  **status: Any) -> GatewayConfig:  # fmt: skip
    users = tmp_path / "admins.toml"
    add_admin(users, ADMIN, PASSWORD)
    return make_config(ledger, status={"port": 0, "users_file": str(users), **status})  # type: ignore[no-any-return]


async def log_in(client: httpx.AsyncClient) -> str:
    """Log in as the admin; returns the page's CSRF token."""
    answer = await client.post("/login", data={"name": ADMIN, "password": PASSWORD})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    return csrf_of((await client.get("/")).text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class StatusClient:
    """A scanner's status connection: publishes its retained status, and its broker-side last
    will (`{"online": false}`) fires when `drop()` cuts the connection without DISCONNECT."""

    def __init__(self, broker: Mosquitto, dev: str) -> None:
        self.dev = dev
        self.topic = topic(SITE, "status", dev)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=dev)
        self.client.username_pw_set(dev, f"{dev}-secret")
        self.client.will_set(self.topic, b'{"online": false}', qos=1, retain=True)
        connected = threading.Event()
        self.client.on_connect = lambda *a: connected.set()
        self.client.connect("127.0.0.1", broker.port, keepalive=30)
        self.client.loop_start()
        assert connected.wait(10), f"{dev} could not connect"

    def online(self, **fields: Any) -> None:
        doc = {"online": True, "fw": "0.1.0", "bat_mv": 3900, "rssi": -61, "outbox": 0,
               "uptime": 12, "boot": 3, "seq": 1, **fields}  # fmt: skip
        self.client.publish(self.topic, orjson.dumps(doc), qos=1, retain=True).wait_for_publish(5)

    def drop(self) -> None:
        """The scanner vanishes (battery out): no DISCONNECT, so the broker sends the will."""
        self.client.loop_stop()
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
