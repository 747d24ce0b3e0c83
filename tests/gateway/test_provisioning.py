"""Provisioning and access, against a real Mosquitto started from the files the product writes.

Every login is made with `stockwire provision ...`, the broker's files with `stockwire
broker-config`, revocation with `stockwire revoke --reload`; clients log in with the
credentials from the configs those commands hand out. What an absent message proves is
always ordered behind one that arrives on the same path (no waiting for nothing).
"""

from __future__ import annotations

import asyncio
import base64
import json
import queue
import socket
import ssl
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker import BrokerSite, hash_password
from gateway.config import parse
from gateway.handoff import Handoff
from gateway.intake import Intake
from gateway.model import Incoming, Scan
from stockwire import cli
from stockwire.processes import free_port
from stockwire.wire import ScanEvent, encode_scan, topic
from tests.gateway.conftest import OwnedMosquitto
from tests.support.certs import EC, make_certificates, openssl

SITE = "site1"


class SiteBroker(OwnedMosquitto):
    """Mosquitto started from the conf `stockwire broker-config` wrote (nothing rewritten)."""

    def __init__(self, directory: Path, port: int) -> None:  # no super(): it writes a conf
        self.directory = directory
        self.site = BrokerSite(SITE)
        self.port = port
        self.conf = directory / "mosquitto.conf"
        self.proc = None


class Cli:
    """`stockwire ...` run in-process, with one site directory."""

    def __init__(self, site_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.site_dir = site_dir
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        rc = cli.main([*args, "--site-dir", str(self.site_dir)])
        out, err = self.capsys.readouterr()
        return rc, out, err

    def scanner(self, name: str, out: Path, *extra: str) -> dict[str, Any]:
        rc, _, err = self("provision", "scanner", name, "--site", SITE,
                          "--broker-host", "127.0.0.1", "--broker-port", "1883", "-o", str(out),
                          *extra)  # fmt: skip
        assert rc == 0, err
        doc: dict[str, Any] = json.loads(out.read_text())
        return doc

    def gateway(self, name: str) -> dict[str, Any]:
        rc, out, err = self("provision", "gateway", name, "--site", SITE)
        assert rc == 0, err
        return tomllib.loads(out)


class Client:
    """A paho client that records its CONNACKs, disconnects and messages."""

    def __init__(self, port: int, user: str | None, password: str | None = None,
                 ca: Path | None = None) -> None:  # fmt: skip
        self.connacks: queue.Queue[Any] = queue.Queue()
        self.disconnects: queue.Queue[Any] = queue.Queue()
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.subacks: queue.Queue[Any] = queue.Queue()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=user or "anonymous")
        if user is not None:
            self.c.username_pw_set(user, password)
        if ca is not None:
            self.c.tls_set(ca_certs=str(ca))
        self.c.on_connect = lambda c, u, flags, rc, props: self.connacks.put(rc)
        self.c.on_disconnect = lambda c, u, flags, rc, props: self.disconnects.put(rc)
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.c.on_subscribe = lambda c, u, mid, rcs, props: self.subacks.put(rcs)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def accepted(self) -> bool:
        return not self.connacks.get(timeout=10).is_failure

    def subscribe(self, *topics: str) -> None:
        self.c.subscribe([(t, 1) for t in topics])
        self.subacks.get(timeout=10)

    def publish(self, name: str, payload: bytes) -> None:
        self.c.publish(name, payload, qos=1).wait_for_publish(10)

    def next_message(self) -> tuple[str, bytes]:
        return self.messages.get(timeout=10)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "site", capsys)


@pytest.fixture
def clients() -> Iterator[Any]:
    made: list[Client] = []

    def make(*args: Any, **kwargs: Any) -> Client:
        made.append(Client(*args, **kwargs))
        return made[-1]

    yield make
    for c in made:
        c.close()


@pytest.fixture
def site(tmp_path: Path, run: Cli) -> dict[str, Any]:
    """gw-1, hs-01 and hs-02 provisioned; the broker's files written for a free port."""
    doc: dict[str, Any] = {
        "gw-1": run.gateway("gw-1"),
        **{dev: run.scanner(dev, tmp_path / f"{dev}.json") for dev in ("hs-01", "hs-02")},
        "port": free_port(),
        "broker_dir": tmp_path / "broker",
    }
    rc, _, err = run("broker-config", str(doc["broker_dir"]), "--port", str(doc["port"]),
                     "--host", "127.0.0.1")  # fmt: skip
    assert rc == 0, err
    return doc


@pytest.fixture
def broker(site: dict[str, Any]) -> Iterator[SiteBroker]:
    b = SiteBroker(site["broker_dir"], site["port"])
    with b:
        yield b


def scanner_login(site: dict[str, Any], dev: str, clients: Any) -> Client:
    mq = site[dev]["mqtt"]
    client: Client = clients(site["port"], mq["user"], mq["password"])
    assert client.accepted()
    return client


def gateway_login(site: dict[str, Any], clients: Any) -> Client:
    mq = parse({"site": SITE, "gateway_id": "gw-1", **site["gw-1"]}).mqtt  # the real loader
    gw: Client = clients(site["port"], mq.username, mq.password)
    assert gw.accepted()
    gw.subscribe(topic(SITE, "scan", "+"))
    return gw


def scan(dev: str, seq: int) -> bytes:
    return encode_scan(ScanEvent(dev=dev, seq=seq, code="5901234123457", mode="pick", loc="A-1"))


def test_a_scanner_flashing_config_is_the_firmware_format(run: Cli, tmp_path: Path) -> None:
    doc = run.scanner("hs-07", tmp_path / "hs-07.json", "--wifi-ssid", "stockroom",
                      "--wifi-psk", "psk-123")  # fmt: skip
    assert doc["dev"] == "hs-07" and doc["site"] == SITE
    assert doc["mqtt"]["user"] == "hs-07" and doc["mqtt"]["host"] == "127.0.0.1"
    assert len(doc["mqtt"]["password"]) >= 20
    assert doc["wifi"] == {"ssid": "stockroom", "psk": "psk-123"}
    assert stat.S_IMODE((tmp_path / "hs-07.json").stat().st_mode) == 0o600


def test_a_provisioned_scanner_publishes_its_scan_and_the_gateway_receives_it(
    site: dict[str, Any], broker: SiteBroker, clients: Any
) -> None:
    gw = gateway_login(site, clients)
    hs01 = scanner_login(site, "hs-01", clients)
    hs01.publish(topic(SITE, "scan", "hs-01"), scan("hs-01", 1))
    assert gw.next_message() == (topic(SITE, "scan", "hs-01"), scan("hs-01", 1))


def test_a_scanner_cannot_publish_on_another_scanners_scan_topic(
    site: dict[str, Any], broker: SiteBroker, clients: Any
) -> None:
    gw = gateway_login(site, clients)
    hs01 = scanner_login(site, "hs-01", clients)
    hs01.publish(topic(SITE, "scan", "hs-02"), scan("hs-02", 99))  # forged: dropped by the ACL
    hs01.publish(topic(SITE, "scan", "hs-01"), scan("hs-01", 1))  # its own, sent after
    assert gw.next_message() == (topic(SITE, "scan", "hs-01"), scan("hs-01", 1))
    assert gw.messages.empty()


def test_a_scanner_cannot_read_another_scanners_acks(
    site: dict[str, Any], broker: SiteBroker, clients: Any
) -> None:
    gw = gateway_login(site, clients)
    hs01 = scanner_login(site, "hs-01", clients)
    hs02 = scanner_login(site, "hs-02", clients)
    hs01.subscribe(topic(SITE, "ack", "hs-02"), topic(SITE, "ack", "hs-01"))
    hs02.subscribe(topic(SITE, "ack", "hs-02"))
    gw.publish(topic(SITE, "ack", "hs-02"), b'{"for": "hs-02"}')
    gw.publish(topic(SITE, "ack", "hs-01"), b'{"for": "hs-01"}')
    assert hs02.next_message() == (topic(SITE, "ack", "hs-02"), b'{"for": "hs-02"}')
    assert hs01.next_message() == (topic(SITE, "ack", "hs-01"), b'{"for": "hs-01"}')
    assert hs01.messages.empty()


def test_anonymous_and_wrong_passwords_are_refused(
    site: dict[str, Any], broker: SiteBroker, clients: Any
) -> None:
    assert not clients(site["port"], None).accepted()
    assert not clients(site["port"], "hs-01", site["hs-02"]["mqtt"]["password"]).accepted()
    assert not clients(site["port"], "hs-99", "guess").accepted()


def test_revoke_and_reload_lock_the_scanner_out_and_drop_its_live_connection(
    site: dict[str, Any], broker: SiteBroker, clients: Any, run: Cli
) -> None:
    gw = gateway_login(site, clients)
    hs01 = scanner_login(site, "hs-01", clients)
    hs02 = scanner_login(site, "hs-02", clients)

    rc, _, err = run("revoke", "hs-01", "--reload")
    assert rc == 0, err
    assert "SIGHUP to pid" in err

    # mosquitto 2.0 re-checks connected clients on reload: the revoked one is disconnected
    # at once, and its reconnects (paho retries on its own) are refused
    hs01.disconnects.get(timeout=10)
    assert hs01.connacks.get(timeout=10).is_failure
    assert not clients(site["port"], "hs-01", site["hs-01"]["mqtt"]["password"]).accepted()
    assert "hs-01:" not in (site["broker_dir"] / "passwd").read_text()
    assert "user hs-01" not in (site["broker_dir"] / "acl").read_text()
    # everyone else carries on, on the same connections
    hs02.publish(topic(SITE, "scan", "hs-02"), scan("hs-02", 1))
    assert gw.next_message() == (topic(SITE, "scan", "hs-02"), scan("hs-02", 1))
    assert gw.disconnects.empty() and hs02.disconnects.empty()
    rc, out, _ = run("provision", "list")
    assert rc == 0
    revoked = next(line for line in out.splitlines() if line.startswith("hs-01\t"))
    assert revoked.split("\t")[4] != "-"


def test_re_provisioning_needs_rotate_and_rotation_retires_the_old_password(
    site: dict[str, Any], broker: SiteBroker, clients: Any, run: Cli, tmp_path: Path
) -> None:
    registry = (tmp_path / "site" / "registry.json").read_text()
    rc, _, err = run("provision", "scanner", "hs-01", "--broker-host", "127.0.0.1",
                     "-o", str(tmp_path / "again.json"))  # fmt: skip
    assert rc == 1
    assert "hs-01 is already provisioned" in err and "--rotate" in err
    assert not (tmp_path / "again.json").exists()
    assert (tmp_path / "site" / "registry.json").read_text() == registry

    old = site["hs-01"]["mqtt"]["password"]
    live = scanner_login(site, "hs-01", clients)
    rotated = run.scanner("hs-01", tmp_path / "hs-01.json", "--rotate", "--reload")
    assert rotated["mqtt"]["password"] != old
    live.disconnects.get(timeout=10)  # the session on the old password is dropped too
    assert not clients(site["port"], "hs-01", old).accepted()
    assert clients(site["port"], "hs-01", rotated["mqtt"]["password"]).accepted()


def test_a_scanner_added_to_a_running_site_connects_after_the_reload(
    site: dict[str, Any], broker: SiteBroker, clients: Any, run: Cli, tmp_path: Path
) -> None:
    gw = gateway_login(site, clients)
    doc = run.scanner("hs-03", tmp_path / "hs-03.json", "--reload")
    hs03 = clients(site["port"], doc["mqtt"]["user"], doc["mqtt"]["password"])
    assert hs03.accepted()
    hs03.publish(topic(SITE, "scan", "hs-03"), scan("hs-03", 1))
    assert gw.next_message() == (topic(SITE, "scan", "hs-03"), scan("hs-03", 1))


def test_broker_config_can_start_an_empty_site(run: Cli, tmp_path: Path) -> None:
    rc, _, err = run("broker-config", str(tmp_path / "broker"))
    assert rc == 1 and "`broker-config DIR --site SITE` starts one" in err
    rc, _, err = run("broker-config", str(tmp_path / "broker"), "--site", SITE)
    assert rc == 0, err
    assert (tmp_path / "broker" / "passwd").read_text() == ""
    run.scanner("hs-01", tmp_path / "hs-01.json")
    assert (tmp_path / "broker" / "passwd").read_text().startswith("hs-01:$7$")


def test_the_registry_and_the_broker_files_hold_hashes_only(
    site: dict[str, Any], tmp_path: Path
) -> None:
    registry_file = tmp_path / "site" / "registry.json"
    passwd_file = site["broker_dir"] / "passwd"
    registry = json.loads(registry_file.read_text())
    passwords = {
        "hs-01": site["hs-01"]["mqtt"]["password"],
        "hs-02": site["hs-02"]["mqtt"]["password"],
        "gw-1": site["gw-1"]["mqtt"]["password"],
    }
    for name, password in passwords.items():
        assert password not in registry_file.read_text()
        assert password not in passwd_file.read_text()
        stored = registry["logins"][name]["password_hash"]
        _, _, _, salt, _ = stored.split("$")
        assert hash_password(password, base64.b64decode(salt)) == stored
        assert f"{name}:{stored}\n" in passwd_file.read_text()
    for path in (registry_file, passwd_file, site["broker_dir"] / "acl"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def tls_broker_config(site: dict[str, Any], run: Cli, certs: Path) -> int:
    """Rewrite the site's broker files with a TLS listener too; return its port."""
    tls_port = free_port()
    rc, _, err = run("broker-config", str(site["broker_dir"]), "--port", str(site["port"]),
                     "--host", "127.0.0.1", "--tls-port", str(tls_port), "--tls-host", "127.0.0.1",
                     "--cafile", str(certs / "ca.crt"), "--certfile", str(certs / "server.crt"),
                     "--keyfile", str(certs / "server.key"))  # fmt: skip
    assert rc == 0, err
    return tls_port


def connect_packet(user: str, password: str) -> bytes:
    def s(text: str) -> bytes:
        return len(text.encode()).to_bytes(2, "big") + text.encode()

    body = s("MQTT") + bytes([4, 0xC2]) + (30).to_bytes(2, "big") + s(user) + s(user) + s(password)
    return bytes([0x10, len(body)]) + body


def raw_connack(port: int, packet: bytes) -> bytes:
    """What the broker answers a plain MQTT CONNECT with (b"" when it hangs up)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(packet)
        try:
            return sock.recv(4)
        except ConnectionResetError:
            return b""


def test_the_tls_listener_takes_clients_that_trust_the_site_ca_and_refuses_plain_mqtt(
    site: dict[str, Any], run: Cli, clients: Any, tmp_path: Path
) -> None:
    certs = make_certificates(tmp_path / "certs")
    tls_port = tls_broker_config(site, run, certs)
    with SiteBroker(site["broker_dir"], site["port"]):
        gw = gateway_login(site, clients)
        mq = site["hs-01"]["mqtt"]
        over_tls = clients(tls_port, mq["user"], mq["password"], ca=certs / "ca.crt")
        assert over_tls.accepted()
        over_tls.publish(topic(SITE, "scan", "hs-01"), scan("hs-01", 1))
        assert gw.next_message() == (topic(SITE, "scan", "hs-01"), scan("hs-01", 1))

        packet = connect_packet(mq["user"], mq["password"])
        assert raw_connack(site["port"], packet) == b"\x20\x02\x00\x00"  # plain port: accepted
        assert raw_connack(tls_port, packet) == b""  # TLS port: no CONNACK, connection closed
        openssl("req", "-x509", *EC, "-keyout", "other.key", "-out", "other.crt", "-days", "2",
                "-subj", "/CN=Some other CA", cwd=certs)  # fmt: skip
        with pytest.raises(ssl.SSLCertVerificationError):  # a client trusting another CA
            clients(tls_port, mq["user"], mq["password"], ca=certs / "other.crt")


async def test_the_gateway_takes_scans_over_the_tls_listener_when_given_the_site_ca(
    site: dict[str, Any], run: Cli, clients: Any, tmp_path: Path
) -> None:
    certs = make_certificates(tmp_path / "certs")
    tls_port = tls_broker_config(site, run, certs)
    doc = {"site": SITE, "gateway_id": "gw-1", **site["gw-1"]}
    doc["mqtt"] = {**doc["mqtt"], "host": "127.0.0.1", "port": tls_port,
                   "tls_ca_file": "certs/ca.crt"}  # fmt: skip
    config = parse(doc, base=tmp_path)  # a relative CA path is from the config's folder
    assert config.mqtt.tls_ca_file == str(tmp_path / "certs" / "ca.crt")
    with SiteBroker(site["broker_dir"], site["port"]):
        inbox: Handoff[Incoming] = Handoff(asyncio.get_running_loop(), 100)
        intake = Intake(config, inbox)
        intake.start()
        try:
            assert await asyncio.to_thread(intake.connected.wait, 10)
            mq = site["hs-01"]["mqtt"]
            scanner = clients(tls_port, mq["user"], mq["password"], ca=certs / "ca.crt")
            assert scanner.accepted()
            scanner.publish(topic(SITE, "scan", "hs-01"), scan("hs-01", 1))
            [item] = await inbox.take(10, 10.0)
            assert isinstance(item, Scan)
            assert (item.event.dev, item.event.seq) == ("hs-01", 1)
        finally:
            intake.stop()


def test_without_a_registry_list_and_revoke_say_how_to_start_one_and_leave_nothing(
    run: Cli,
) -> None:
    rc, _, err = run("provision", "list")
    assert rc != 0 and "`stockwire provision scanner|gateway NAME --site SITE`" in err
    rc, _, err = run("revoke", "hs-99")
    assert rc != 0 and "no device registry in" in err
    assert not run.site_dir.exists()  # no directory, no empty .lock left behind
