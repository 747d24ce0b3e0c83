"""Provisioning a site's devices: fresh passwords, the configs that carry them, the broker's files.

Owns what a new login hands out (the scanner's flashing config in the exact `config.json` form
the firmware reads, the gateway's `[mqtt]` TOML section), writing the broker's mosquitto.conf,
passwd and acl from the registry (gateway/registry.py), and reloading a running Mosquitto after
a change (SIGHUP to the pid in its pid file, or `systemctl reload UNIT`). A plaintext
password exists only in what these functions return; the registry keeps its hash.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.broker import TlsListener, new_secret, write_access_files, write_broker_config
from gateway.registry import BrokerFiles, Registry, RegistryError


@dataclass(frozen=True)
class Issued:
    """A login just created or rotated, with its one-time plaintext password."""

    site: str
    name: str
    role: str
    password: str


def issue(registry: Registry, name: str, role: str, rotate: bool = False) -> Issued:
    """Give `name` a fresh random password (recorded as its hash only)."""
    password = new_secret()
    registry.provision(name, role, password, rotate)
    return Issued(registry.site, name, role, password)


def scanner_config(
    issued: Issued,
    broker_host: str,
    broker_port: int = 1883,
    wifi_ssid: str | None = None,
    wifi_psk: str | None = None,
) -> dict[str, Any]:
    """The scanner's config.json (firmware/main.py, stockwire_fw/app.py, hal_esp32.py)."""
    doc: dict[str, Any] = {
        "dev": issued.name,
        "site": issued.site,
        "mqtt": {
            "host": broker_host,
            "port": broker_port,
            "user": issued.name,
            "password": issued.password,
            "keepalive": 30,
        },
    }
    if wifi_ssid is not None:
        doc["wifi"] = {"ssid": wifi_ssid, "psk": wifi_psk or ""}
    return doc


def scanner_config_text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1) + "\n"


def mqtt_toml(issued: Issued, broker_host: str, broker_port: int = 1883) -> str:
    """The `[mqtt]` section of gateway.toml (gateway/config.py) for a gateway login."""
    return (
        f"# MQTT login {issued.name!r} ({issued.role}) of site {issued.site!r}\n"
        "[mqtt]\n"
        f"host = {json.dumps(broker_host)}\n"
        f"port = {broker_port}\n"
        f"username = {json.dumps(issued.name)}\n"
        f"password = {json.dumps(issued.password)}\n"
    )


def write_broker_files(
    registry: Registry,
    directory: Path,
    port: int = 1883,
    host: str = "",
    tls: TlsListener | None = None,
    pid_file: Path | None = None,
    user: str | None = None,
) -> Path:
    """mosquitto.conf, passwd and acl for every active login; remembered in the registry."""
    directory = directory.resolve()
    pid_file = (pid_file or directory / "mosquitto.pid").resolve()
    conf = write_broker_config(
        directory,
        registry.broker_site(),
        port,
        host,
        tls=tls,
        pid_file=pid_file,
        user=user,
    )
    _give_to(user, directory / "passwd", directory / "acl", directory / "data")
    registry.broker = BrokerFiles(str(directory), str(pid_file), user)
    return conf


def rewrite_access(registry: Registry) -> Path:
    """Rewrite passwd and acl where broker-config last wrote them; return that directory."""
    if registry.broker is None:
        raise RegistryError("the broker's files were never written: run stockwire broker-config")
    directory = Path(registry.broker.dir)
    passwd, acl = write_access_files(directory, registry.broker_site())
    _give_to(registry.broker.user, passwd, acl)
    return directory


def reload_broker(
    registry: Registry, systemd_unit: str | None = None, pid_file: Path | None = None
) -> str:
    """Have Mosquitto re-read passwd and acl (via systemd when given its unit); say how."""
    if systemd_unit:
        command = ["systemctl", "reload", systemd_unit]
        if subprocess.run(command, check=False).returncode:
            raise RegistryError(f"{' '.join(command)} failed")
        return " ".join(command)
    if pid_file is None:
        if registry.broker is None:
            raise RegistryError("no pid file known: give --pid-file or --systemd")
        pid_file = Path(registry.broker.pid_file)
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError) as exc:
        raise RegistryError(f"cannot read Mosquitto's pid from {pid_file}: {exc}") from None
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise RegistryError(f"no process {pid} (from {pid_file}): is Mosquitto running?") from None
    return f"SIGHUP to pid {pid}"


def _give_to(user: str | None, *paths: Path) -> None:
    """As root, hand the broker's private files to the user Mosquitto runs as."""
    if not user or os.geteuid() != 0:
        return
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise RegistryError(f"no such user {user!r} (--user)") from None
    for path in paths:
        os.chown(path, entry.pw_uid, entry.pw_gid)
