"""MQTT intake: a paho-mqtt 2.x client with a persistent session that hands every scan and
status message to the committer, and publishes the acks.

Owns the broker connection (fixed client id, clean_session=False, QoS1 subscriptions, reconnect
with backoff, a warning when the broker cannot be reached), `connected` (set only once the
broker acknowledged the subscriptions: before the SUBACK a scan published to a fresh broker has
no subscriber and is dropped) and backpressure: paho's network thread blocks in
`Handoff.put` when the uncommitted queue is full, so it stops reading and the broker keeps the
backlog. paho PUBACKs a message once the callback returns; the scan is safe anyway because
the scanner keeps it in its outbox until our app-level `stored` ack, which goes out only after
the commit.

Scanner config: when a scanner comes online (a status with `online: true` after an offline
one, a new `boot`, or the first one this gateway sees) the intake publishes config/<dev>,
retained QoS1: `[scanners]` from gateway.toml for that device plus `t`, the gateway's clock in
ms. The scanner subscribed to it before sending that status, so it gets this copy live and
sets its clock from it; the retained copy only carries the settings to its next connect.
"""

from __future__ import annotations

import logging
import threading

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.config import GatewayConfig
from gateway.handoff import Handoff
from gateway.model import Incoming, classify_scan, now_ms, parse_status
from stockwire.wire import WireError, parse_topic, topic

log = logging.getLogger(__name__)


class Intake:
    def __init__(self, config: GatewayConfig, inbox: Handoff[Incoming]) -> None:
        self._config = config
        self._inbox = inbox
        self._site = config.site
        self._stopping = threading.Event()
        self.connected = threading.Event()  # subscribed: the broker routes scans to us
        self.connects = 0  # CONNACKs accepted; more than one means we reconnected
        self.received = 0
        self.retained_scans = 0  # retained copies of scans ignored (see _on_message)
        self._retained_seen: set[str] = set()
        self._scanners_seen: dict[str, tuple[bool, object]] = {}  # dev: (online, boot)
        self.configs_sent = 0
        self._subscribe_mid: int | None = None
        self.connect_failures = 0  # attempts that did not reach the broker since the last connect
        m = config.mqtt
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        if m.username:
            client.username_pw_set(m.username, m.password)
        if m.tls_ca_file:
            client.tls_set(ca_certs=m.tls_ca_file)  # verifies the chain and the host name
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(
            max(1, round(m.reconnect_min_s)), max(1, round(m.reconnect_max_s))
        )
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        self._client = client

    def start(self) -> None:
        m = self._config.mqtt
        self._client.connect_async(m.host, m.port, keepalive=m.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, device: str, payload: bytes) -> None:
        """Queue an ack for `device` (QoS1); safe from any thread."""
        self._client.publish(topic(self._site, "ack", device), payload, qos=1)

    def send_config(self, device: str) -> None:
        """Publish `device`'s config (gateway.toml's [scanners]) and the clock, retained."""
        doc = {**self._config.scanners.for_device(device), "t": now_ms()}
        self._client.publish(
            topic(self._site, "config", device), orjson.dumps(doc), qos=1, retain=True
        )
        self.configs_sent += 1

    def _came_online(self, device: str, doc: dict) -> bool:
        state = (doc.get("online") is True, doc.get("boot"))
        before = self._scanners_seen.get(device)
        self._scanners_seen[device] = state
        return state[0] and before != state

    # -- paho callbacks (its network thread) ------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason: mqtt.ReasonCode, properties: object) -> None:  # fmt: skip
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        self.connects += 1
        self.connect_failures = 0
        log.info("connected to the broker (session present: %s)", flags.session_present)
        _, self._subscribe_mid = client.subscribe(
            [(topic(self._site, "scan", "+"), 1), (topic(self._site, "status", "+"), 1)]
        )

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        """No TCP (or TLS) connection to the broker: said once as a warning, then at every
        tenth attempt, until a connect succeeds (paho retries with its backoff)."""
        self.connect_failures += 1
        n = self.connect_failures
        if n == 1 or n % 10 == 0:
            m = self._config.mqtt
            log.warning(
                "cannot reach the broker at %s:%d (%d attempts so far); retrying every %g s "
                "at most", m.host, m.port, n, m.reconnect_max_s,
            )  # fmt: skip

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reasons: list[mqtt.ReasonCode], properties: object) -> None:  # fmt: skip
        if mid != self._subscribe_mid:
            return
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            log.error("the broker refused our subscriptions (check the ACL): %s", failed)
            return
        log.info("subscribed to the site's scan and status topics")
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason: mqtt.ReasonCode, properties: object) -> None:  # fmt: skip
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: object,
                    message: mqtt.MQTTMessage) -> None:  # fmt: skip
        gw_ts = now_ms()
        payload = bytes(message.payload)
        self.received += 1
        try:
            site, kind, device = parse_topic(message.topic)
        except WireError:
            log.warning("ignoring a message on %s", message.topic)
            return
        if site != self._site:
            return
        item: Incoming | None
        if kind == "scan" and message.retain:
            # a scan published with retain (never by our firmware) comes back on every
            # subscribe; it was taken, or refused, when it was delivered live
            self.retained_scans += 1
            if device not in self._retained_seen:
                self._retained_seen.add(device)
                log.warning(
                    "ignoring a retained scan on %s (scans are never retained); to clear it, "
                    "switch the scanner off and publish an empty retained message with its "
                    "login: mosquitto_pub -u %s -P <its password> -r -n -t %s",
                    message.topic, device, message.topic,
                )  # fmt: skip
            return
        if kind == "scan":
            item = classify_scan(message.topic, device, payload, gw_ts)
        elif kind == "status":
            item = parse_status(device, payload, gw_ts)
            if item is not None and self._came_online(device, item.doc):
                self.send_config(device)
        else:
            item = None
        if item is not None:
            self._inbox.put(item, self._stopping.is_set)
