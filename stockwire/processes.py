"""Starting, watching and stopping the local processes the demo and the tests run.

Owns: free loopback ports, waiting for a port (or an HTTP URL) to answer, `Mosquitto`, a broker
started from the config the product ships (gateway.broker) in a directory of its own, and the
ledger and the gateway as `stockwire` processes on loopback (`Ledger`, `Gateway`: their config
files, start, stop), as the demo and `make firmware-check` run them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from gateway.broker import BrokerSite, write_broker_config
from stockwire.files import write_private


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_port(port: int, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)),
        None,
    )
    if not found:
        raise FileNotFoundError("mosquitto is not installed (make installs Debian's package)")
    return found


def stop_process(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it does not end within `timeout`."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Mosquitto:
    """One private broker on a free loopback port, with the site's auth and ACL."""

    def __init__(self, directory: Path, site: BrokerSite, port: int | None = None) -> None:
        self.directory = directory
        self.site = site
        self.port = port or free_port()
        self.conf = write_broker_config(directory, site, self.port)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.directory / "mosquitto.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(
                "mosquitto did not start:\n" + (self.directory / "mosquitto.log").read_text()
            ) from None

    def reload(self) -> None:
        """Re-write passwd/acl from `site` and have the broker re-read them (SIGHUP)."""
        write_broker_config(self.directory, self.site, self.port)
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Until GET `url` answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer")
        time.sleep(0.05)


def spawn_cli(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """`stockwire ARGS` (this interpreter), in a session of its own, output appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "stockwire.cli", *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    return proc


class Ledger:
    """`stockwire ledger serve` on a free loopback port: SQLite in `directory`, a fresh admin
    token and one fresh token per gateway id (`tokens`)."""

    def __init__(self, directory: Path, gateway_ids: Iterable[str], log: Path) -> None:
        self.directory = directory
        self.log = log
        self.admin_token = secrets.token_urlsafe(24)
        self.tokens = {gw: secrets.token_urlsafe(24) for gw in gateway_ids}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = directory / "ledger.toml"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        gateways = "".join(f'{gw} = "{token}"\n' for gw, token in self.tokens.items())
        write_private(
            self.config,
            f'db_url = "sqlite:///{self.directory / "ledger.db"}"\n'
            f'admin_token = "{self.admin_token}"\n[gateways]\n{gateways}',
        )
        args = ["ledger", "serve", "--config", str(self.config), "--port", str(self.port)]
        self.proc = spawn_cli(args, self.log)
        wait_port(self.port, timeout=30)
        wait_http(self.url + "/healthz")

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)


class Gateway:
    """`stockwire gateway run` for `site` on loopback: its gateway.toml (MQTT login, buffer
    `gateway.db` in `directory`, the ledger's URL and token, the status page on `status_port`
    when given, plus `extra` TOML), started, killed, restarted."""

    def __init__(
        self,
        directory: Path,
        site: str,
        gateway_id: str,
        password: str,
        broker_port: int,
        ledger: Ledger,
        log: Path,
        status_port: int | None = None,
        extra: str = "",
    ) -> None:
        self.directory = directory
        self.log = log
        self.buffer = directory / "gateway.db"
        self.config = directory / "gateway.toml"
        status = (
            f'[status]\nhost = "127.0.0.1"\nport = {status_port}\nusers_file = "admins.toml"\n'
            if status_port
            else ""
        )
        self.text = (
            f'site = "{site}"\ngateway_id = "{gateway_id}"\n'
            f'[mqtt]\nhost = "127.0.0.1"\nport = {broker_port}\n'
            f'username = "{gateway_id}"\npassword = "{password}"\nclient_id = "{gateway_id}"\n'
            f'[buffer]\npath = "{self.buffer}"\n'
            f'[ledger]\nurl = "{ledger.url}"\ntoken = "{ledger.tokens[gateway_id]}"\n'
            + status
            + extra
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        """Start it; return once its buffer exists (it has opened its state)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        write_private(self.config, self.text)
        self.proc = spawn_cli(["gateway", "run", "--config", str(self.config)], self.log)
        deadline = time.monotonic() + timeout
        while not self.buffer.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited: see {self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError("gateway did not create its buffer")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL to its whole session, as a power cut would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)
