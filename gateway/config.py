"""The gateway's configuration: one TOML file read with tomllib into frozen dataclasses.

Owns: the file format, defaults, and refusing a config that cannot work (missing site,
both or neither dock source, a ledger token left empty). Built by `load()`, never at import.

MQTT client id: the site's broker runs with `use_username_as_clientid true`
(gateway/broker.py), so it replaces every client's id with its login; that way no other login
can connect under the gateway's id and take over its persistent session. The gateway's client
id therefore defaults to `[mqtt] username` (and `client_id` is only worth setting for a broker
that is not ours); with no username it is `stockwire-<gateway_id>`.
"""

from __future__ import annotations

import json
import math
import sys
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from stockwire.wire import valid_name


class ConfigError(ValueError):
    """The config file is missing something or holds a value that cannot work."""


@dataclass(frozen=True)
class MqttConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""
    client_id: str = ""  # defaults to the username (see the module doc), else stockwire-<id>
    keepalive_s: int = 30
    reconnect_min_s: float = 0.2
    reconnect_max_s: float = 30.0
    # TLS to the broker's TLS listener (`stockwire broker-config --tls-port`): the CA that
    # signed the broker's certificate; the broker's name is checked against `host`
    tls_ca_file: str = ""


@dataclass(frozen=True)
class BufferConfig:
    path: str = "gateway.db"
    queue_max: int = 20_000  # uncommitted scans held in memory; intake stops reading past it
    commit_max: int = 5_000  # rows per group commit at most
    commit_wait_ms: float = 2.0  # how long a commit waits for more rows once one arrived
    cap_mb: float = 512.0  # disk budget (live pages + WAL); at it, new scans get `retry`
    alarm_pct: float = 80.0  # WARNING and `Buffer.disk().alarm` from this share of cap_mb
    keep_sent_days: float = 7.0  # rows the ledger answered are pruned this long after
    prune_every_s: float = 600.0  # how often retention runs


@dataclass(frozen=True)
class LedgerConfig:
    url: str = ""
    token: str = ""
    batch_max: int = 500
    batch_age_ms: float = 20.0
    timeout_s: float = 10.0
    verify_tls: bool = True
    ca_file: str = ""  # PEM of a private CA to trust for the ledger's certificate
    backoff_min_s: float = 0.2
    backoff_max_s: float = 30.0
    # consecutive HTTP 500s for the same batch before it is split in halves; a single event
    # that gets this many (while the ledger answers other batches) is refused `ledger error`
    split_after: int = 3


@dataclass(frozen=True)
class DockConfig:
    device: str = "dock-1"
    evdev_path: str = ""  # a /dev/input/by-id name (or a full path), resolved at every open
    replay: str = ""
    mode: str = ""  # optional starting label state, as if its labels had been read
    loc: str = ""
    ref: str = ""
    layout: str = "us"  # the reader's keyboard layout: us, uk, de, fr (gateway/dock_layouts.py)
    gs_key: str = "ctrl+KEY_RIGHTBRACE"  # the key the reader sends for GS (gateway/dock.py)
    reopen_min_s: float = 0.5  # backoff while the reader is unplugged
    reopen_max_s: float = 10.0
    buzzer_pin: int | None = None  # BCM numbers for the dock's feedback (dock_feedback.py)
    led_ok_pin: int | None = None
    led_err_pin: int | None = None


@dataclass(frozen=True)
class StatusConfig:
    """The admins' status page and /metrics (gateway/status/); served when `[status]` is set."""

    host: str = "127.0.0.1"
    port: int = 8080  # 0: any free port (tests)
    session_minutes: float = 480
    users_file: str = "admins.toml"  # written by `stockwire gateway admin add`
    login_failures: int = 5  # failed logins (per name, and per client address) before lockout
    lockout_minutes: float = 15


# What a scanner takes on config/<dev>: whole numbers in these ranges, and battery_cal
# [gain 0.5..1.5, offset_mv -500..500]. The firmware checks the same (firmware/lib/
# stockwire_fw/remote.py) and refuses a whole document for one bad key.
SCANNER_KEYS: dict[str, tuple[int, int]] = {
    "heartbeat_s": (1, 3600),
    "resend_s": (1, 3600),
    "volume": (0, 3),
    "low_battery_mv": (2500, 4200),
    "long_ms": (100, 10000),
    "double_ms": (50, 2000),
}


@dataclass(frozen=True)
class ScannersConfig:
    """The settings the gateway publishes retained on config/<dev>, with its clock `t`, when a
    scanner comes online (gateway/intake.py): `defaults` for every scanner, `devices` one
    scanner's own values over them. A key left out is not sent (the scanner keeps its own)."""

    defaults: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_device(self, dev: str) -> dict[str, Any]:
        return {**self.defaults, **self.devices.get(dev, {})}


@dataclass(frozen=True)
class GatewayConfig:
    site: str
    gateway_id: str
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    buffer: BufferConfig = field(default_factory=BufferConfig)
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    dock: DockConfig | None = None
    status: StatusConfig | None = None
    scanners: ScannersConfig = field(default_factory=ScannersConfig)

    @property
    def client_id(self) -> str:
        return self.mqtt.client_id or self.mqtt.username or f"stockwire-{self.gateway_id}"


def _section(cls: type, doc: Any, name: str) -> Any:
    if doc is None:
        return cls()
    if not isinstance(doc, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(doc) - set(known))
    if unknown:
        raise ConfigError(f"[{name}] has unknown keys: {', '.join(unknown)}")
    defaults = cls()
    for key, value in doc.items():
        _check_type(name, key, value, getattr(defaults, key), str(known[key].type))
    return cls(**doc)


_KINDS: dict[type, tuple[tuple[type, ...], str]] = {
    bool: ((bool,), "true or false"),
    int: ((int,), "a whole number"),
    float: ((int, float), "a number"),
    str: ((str,), "a string"),
}


def _check_type(table: str, key: str, value: Any, default: Any, declared: str) -> None:
    """A value of the type the key's default has (an optional pin: a whole number)."""
    kind = bool if isinstance(default, bool) else type(default)
    if default is None:  # `int | None` fields
        kind = int if "int" in declared else str
    accepted, words = _KINDS.get(kind, ((object,), ""))
    wrong_bool = isinstance(value, bool) and kind is not bool
    if wrong_bool or not isinstance(value, accepted):
        raise ConfigError(f"[{table}] {key} must be {words}, got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"[{table}] {key} must be a finite number, got {value!r}")


_TABLES = {"site", "gateway_id", "mqtt", "buffer", "ledger", "dock", "status", "scanners"}


def scanner_value_error(key: str, value: Any) -> str | None:
    """What is wrong with `value` for the config/<dev> key `key` ("must be ..."), or None.
    `stockwire flash` checks a scanner's config.json with it too (stockwire/scanner_config.py)."""
    if key == "battery_cal":
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            and 0.5 <= value[0] <= 1.5
            and type(value[1]) is int
            and -500 <= value[1] <= 500
        )
        words = "[gain 0.5..1.5, offset_mv -500..500]"
    else:
        lo, hi = SCANNER_KEYS[key]
        ok = type(value) is int and lo <= value <= hi
        words = f"a whole number {lo}..{hi}"
    return None if ok else f"must be {words}, got {shown(value)}"


def shown(value: Any) -> str:
    """A config value as its file would spell it (true, "800", 1.5), for error messages."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _scanner_values(table: str, doc: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(doc) - set(SCANNER_KEYS) - {"battery_cal"})
    if unknown:
        known = ", ".join([*SCANNER_KEYS, "battery_cal"])
        raise ConfigError(
            f"[{table}] has unknown keys: {', '.join(unknown)} (a scanner takes {known}; "
            f"one scanner's own values go in a [scanners.<device>] table)"
        )
    for key, value in doc.items():
        error = scanner_value_error(key, value)
        if error:
            raise ConfigError(f"[{table}] {key} {error}")
    return dict(doc)


def _scanners(doc: Any) -> ScannersConfig:
    """`[scanners]`: keys for every scanner; `[scanners.<dev>]` tables: one scanner's own."""
    if not isinstance(doc, dict):
        raise ConfigError("[scanners] must be a table")
    devices = {}
    for dev, values in doc.items():
        if isinstance(values, dict):
            if not valid_name(dev):
                raise ConfigError(f"[scanners.{dev}] must name a device")
            devices[dev] = _scanner_values(f"scanners.{dev}", values)
    defaults = {k: v for k, v in doc.items() if not isinstance(v, dict)}
    return ScannersConfig(_scanner_values("scanners", defaults), devices)


def parse(doc: dict[str, Any], base: Path | None = None) -> GatewayConfig:
    """Build a GatewayConfig from a parsed TOML document; relative paths are from `base`."""
    unknown = sorted(set(doc) - _TABLES)
    if unknown:
        raise ConfigError(f"unknown keys or tables: {', '.join(unknown)} (a misspelling?)")
    site, gateway_id = doc.get("site", ""), doc.get("gateway_id", "")
    if not (isinstance(site, str) and valid_name(site)):
        raise ConfigError("site must be a name (letters, digits, '-', '_', '.')")
    if not (isinstance(gateway_id, str) and valid_name(gateway_id)):
        raise ConfigError("gateway_id must be a name (letters, digits, '-', '_', '.')")
    buffer = _section(BufferConfig, doc.get("buffer"), "buffer")
    if base is not None and not Path(buffer.path).is_absolute():
        buffer = BufferConfig(**{**buffer.__dict__, "path": str(base / buffer.path)})
    if not buffer.cap_mb > 0 or not 0 < buffer.alarm_pct <= 100:
        raise ConfigError("[buffer] cap_mb must be > 0 and alarm_pct in (0, 100]")
    if buffer.keep_sent_days < 0 or not buffer.prune_every_s > 0:
        raise ConfigError("[buffer] keep_sent_days must be >= 0 and prune_every_s > 0")
    ledger = _section(LedgerConfig, doc.get("ledger"), "ledger")
    mqtt = _section(MqttConfig, doc.get("mqtt"), "mqtt")
    if mqtt.tls_ca_file and base is not None and not Path(mqtt.tls_ca_file).is_absolute():
        mqtt = MqttConfig(**{**mqtt.__dict__, "tls_ca_file": str(base / mqtt.tls_ca_file)})
    if ledger.ca_file and base is not None and not Path(ledger.ca_file).is_absolute():
        ledger = LedgerConfig(**{**ledger.__dict__, "ca_file": str(base / ledger.ca_file)})
    if ledger.url and not ledger.token:
        raise ConfigError("[ledger] token is required when url is set")
    if ledger.split_after < 1:
        raise ConfigError("[ledger] split_after must be at least 1")
    dock = None
    if "dock" in doc:
        dock = _section(DockConfig, doc["dock"], "dock")
        if bool(dock.evdev_path) == bool(dock.replay):
            raise ConfigError("[dock] needs exactly one of evdev_path or replay")
        if not valid_name(dock.device):
            raise ConfigError("[dock] device must be a name")
        _check_dock(dock)
    status = None
    if "status" in doc:
        status = _section(StatusConfig, doc["status"], "status")
        if base is not None and not Path(status.users_file).is_absolute():
            users_file = str(base / status.users_file)
            status = StatusConfig(**{**status.__dict__, "users_file": users_file})
        if status.session_minutes <= 0 or status.login_failures < 1:
            raise ConfigError("[status] session_minutes and login_failures must be positive")
    scanners = _scanners(doc["scanners"]) if "scanners" in doc else ScannersConfig()
    return GatewayConfig(
        site=site,
        gateway_id=gateway_id,
        mqtt=mqtt,
        buffer=buffer,
        ledger=ledger,
        dock=dock,
        status=status,
        scanners=scanners,
    )


def _check_dock(dock: DockConfig) -> None:
    from gateway.dock import KeyCombo, layout  # evdev's key names; imported only with a dock

    try:
        layout(dock.layout)
        KeyCombo.parse(dock.gs_key)
    except ValueError as exc:
        raise ConfigError(f"[dock] {exc}") from None
    pins = [p for p in (dock.buzzer_pin, dock.led_ok_pin, dock.led_err_pin) if p is not None]
    if any(type(p) is not int or not 0 <= p <= 27 for p in pins) or len(set(pins)) < len(pins):
        raise ConfigError("[dock] buzzer_pin, led_ok_pin, led_err_pin: distinct BCM 0..27")
    if not 0 < dock.reopen_min_s <= dock.reopen_max_s:
        raise ConfigError("[dock] needs 0 < reopen_min_s <= reopen_max_s")


def load(path: str | Path) -> GatewayConfig:
    path = Path(path)
    with path.open("rb") as fh:
        try:
            doc = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    return parse(doc, base=path.parent)


def load_for_command(path: str | Path) -> GatewayConfig | None:
    """`load` for a `stockwire gateway` command: None after one line on stderr (the command
    then exits 2) when the file is missing or cannot work."""
    try:
        return load(path)
    except (ConfigError, OSError) as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return None
