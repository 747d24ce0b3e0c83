"""The gateway's TOML config."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from gateway.config import (
    SCANNER_KEYS,
    BufferConfig,
    ConfigError,
    DockConfig,
    LedgerConfig,
    MqttConfig,
    StatusConfig,
    load,
    parse,
)

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"

EXAMPLE = """
site = "site1"
gateway_id = "gw-1"

[mqtt]
host = "127.0.0.1"
port = 1883
username = "gw-1"
password = "change-me"

[buffer]
path = "gateway.db"

[ledger]
url = "https://ledger.example/"
token = "secret"

[dock]
device = "dock-1"
evdev_path = "/dev/input/event3"
"""


def test_a_config_file_loads_with_defaults_and_paths_relative_to_it(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(EXAMPLE)
    config = load(path)
    assert config.client_id == "gw-1"  # the broker makes every login's client id its username
    assert config.buffer.path == str(tmp_path / "gateway.db")
    assert (config.ledger.batch_max, config.ledger.batch_age_ms) == (500, 20.0)
    assert config.ledger.verify_tls is True
    assert config.dock is not None and config.dock.evdev_path == "/dev/input/event3"


def test_the_client_id_defaults_to_the_mqtt_username_then_to_the_gateway_id() -> None:
    base = {"site": "s", "gateway_id": "gw-1"}
    assert parse({**base, "mqtt": {"username": "gw-login"}}).client_id == "gw-login"
    assert parse(base).client_id == "stockwire-gw-1"
    assert parse({**base, "mqtt": {"username": "u", "client_id": "c"}}).client_id == "c"


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"gateway_id": "gw-1"}, "site"),
        ({"site": "s", "gateway_id": "gw-1", "ledger": {"url": "http://x"}}, "token"),
        ({"site": "s", "gateway_id": "gw-1", "dock": {}}, "exactly one"),
        ({"site": "s", "gateway_id": "gw-1", "mqtt": {"hots": "x"}}, "unknown keys: hots"),
        ({"site": "s", "gateway_id": "gw-1", "ledgr": {"url": "x"}}, "unknown keys or tables: "
         "ledgr"),
        ({"site": "s", "gateway_id": "gw-1", "buffer": {"cap_mb": "x"}},
         r'\[buffer\] cap_mb must be a number, got "x"'),
        ({"site": "s", "gateway_id": "gw-1", "mqtt": {"port": 1883.5}},
         r"\[mqtt\] port must be a whole number, got 1883.5"),
        ({"site": "s", "gateway_id": "gw-1", "ledger": {"verify_tls": "no"}},
         r"\[ledger\] verify_tls must be true or false"),
        ({"site": "s", "gateway_id": "gw-1", "mqtt": {"port": True}}, "port must be a whole"),
        ({"site": "s", "gateway_id": "gw-1", "buffer": {"cap_mb": float("inf")}},
         r"\[buffer\] cap_mb must be a finite number, got inf"),
        ({"site": "s", "gateway_id": "gw-1", "dock": {"replay": "f", "buzzer_pin": "18"}},
         r'\[dock\] buzzer_pin must be a whole number, got "18"'),
    ],
)  # fmt: skip
def test_a_config_that_cannot_work_is_refused(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(doc)


def operations_example(marker: str) -> str:
    """The ```toml block that follows `marker` in docs/operations.md."""
    text = OPERATIONS.read_text()
    assert marker in text, f"docs/operations.md has lost its {marker!r}"
    found = re.search(r"```toml\n(.*?)```", text[text.index(marker) :], re.S)
    assert found is not None
    return found.group(1)


def test_the_operations_guide_example_loads_and_names_every_key_at_its_default(
    tmp_path: Path,
) -> None:
    text = operations_example("<!-- gateway.toml example")
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    config = load(path)
    assert config.dock is not None and config.status is not None
    assert config.buffer.path == str(tmp_path / "gateway.db")
    assert config.status.users_file == str(tmp_path / "admins.toml")

    named: dict[str, set[str]] = {}  # table -> keys set or shown commented out
    other_default: set[tuple[str, str]] = set()  # keys whose comment names another default
    table = ""
    for line in text.splitlines():
        if header := re.match(r"#?\s*\[(\w+)\]", line):
            table = header.group(1)
        elif key := re.match(r"#?\s*(\w+) = ", line):
            named.setdefault(table, set()).add(key.group(1))
            if "default" in line.partition("#")[2] or line.startswith("#"):
                other_default.add((table, key.group(1)))
    sections = {
        "mqtt": MqttConfig,
        "buffer": BufferConfig,
        "ledger": LedgerConfig,
        "dock": DockConfig,
        "status": StatusConfig,
    }
    assert named == {"": {"site", "gateway_id"}, "scanners": {*SCANNER_KEYS, "battery_cal"}} | {
        name: {f.name for f in fields(cls)} for name, cls in sections.items()
    }
    doc = tomllib.loads(text)
    assert config.scanners.for_device("hs-07") == doc["scanners"]
    for name, cls in sections.items():
        for f in fields(cls):
            if (name, f.name) not in other_default:
                assert doc[name][f.name] == f.default, f"[{name}] {f.name}"


def test_a_gateway_that_cannot_start_says_why_in_one_line_and_exits(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "gateway.toml"
        config.write_text('site = "s"\ngateway_id = "gw-1"\n[mqtt]\nport = 1\n'
                          f'[status]\nport = {port}\n')  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "run", "--config", str(config)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"gateway: cannot serve the status page on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in done.stderr
