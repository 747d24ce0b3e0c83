"""The gateway's TOML config."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load, parse

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
    ],
)
def test_a_config_that_cannot_work_is_refused(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(doc)
