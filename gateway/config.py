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


@dataclass(frozen=True)
class BufferConfig:
    path: str = "gateway.db"
    queue_max: int = 20_000  # uncommitted scans held in memory; intake stops reading past it
    commit_max: int = 5_000  # rows per group commit at most
    commit_wait_ms: float = 2.0  # how long a commit waits for more rows once one arrived


@dataclass(frozen=True)
class LedgerConfig:
    url: str = ""
    token: str = ""
    batch_max: int = 500
    batch_age_ms: float = 20.0
    timeout_s: float = 10.0
    verify_tls: bool = True
    backoff_min_s: float = 0.2
    backoff_max_s: float = 30.0
    # consecutive HTTP 500s for the same batch before it is split in halves; a single event
    # that gets this many (while the ledger answers other batches) is refused `ledger error`
    split_after: int = 3


@dataclass(frozen=True)
class DockConfig:
    device: str = "dock-1"
    evdev_path: str = ""
    replay: str = ""
    mode: str = ""  # optional starting label state, as if its labels had been read
    loc: str = ""
    ref: str = ""


@dataclass(frozen=True)
class GatewayConfig:
    site: str
    gateway_id: str
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    buffer: BufferConfig = field(default_factory=BufferConfig)
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    dock: DockConfig | None = None

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
    return cls(**doc)


def parse(doc: dict[str, Any], base: Path | None = None) -> GatewayConfig:
    """Build a GatewayConfig from a parsed TOML document; relative paths are from `base`."""
    site, gateway_id = doc.get("site", ""), doc.get("gateway_id", "")
    if not (isinstance(site, str) and valid_name(site)):
        raise ConfigError("site must be a name (letters, digits, '-', '_', '.')")
    if not (isinstance(gateway_id, str) and valid_name(gateway_id)):
        raise ConfigError("gateway_id must be a name (letters, digits, '-', '_', '.')")
    buffer = _section(BufferConfig, doc.get("buffer"), "buffer")
    if base is not None and not Path(buffer.path).is_absolute():
        buffer = BufferConfig(**{**buffer.__dict__, "path": str(base / buffer.path)})
    ledger = _section(LedgerConfig, doc.get("ledger"), "ledger")
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
    return GatewayConfig(
        site=site,
        gateway_id=gateway_id,
        mqtt=_section(MqttConfig, doc.get("mqtt"), "mqtt"),
        buffer=buffer,
        ledger=ledger,
        dock=dock,
    )


def load(path: str | Path) -> GatewayConfig:
    path = Path(path)
    with path.open("rb") as fh:
        try:
            doc = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    return parse(doc, base=path.parent)
