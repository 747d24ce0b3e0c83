"""Bearer tokens (admin vs gateway) and settings that refuse missing or default secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.errors import SettingsError
from server.settings import Settings
from tests.server.support import ADMIN, ADMIN_TOKEN, GW1, Api, scan


def test_health_needs_no_token(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_admin_endpoints_want_the_admin_token(api: Api) -> None:
    client = api.client
    missing = client.get("/v1/skus")
    assert missing.status_code == 401 and "bearer" in missing.json()["detail"]
    wrong = client.get("/v1/skus", headers={"Authorization": "Bearer nope-nope-nope-nope"})
    assert wrong.status_code == 401
    assert client.get("/v1/skus", headers=GW1).status_code == 403
    assert client.get("/v1/skus", headers=ADMIN).status_code == 200


def test_scan_batches_want_the_gateways_own_token(api: Api) -> None:
    body = {"gateway": "gw-1", "events": [scan("hs-1", 1, "5901234123457", "pick", "X")]}
    client = api.client
    assert client.post("/v1/scan-batches", json=body).status_code == 401
    assert client.post("/v1/scan-batches", json=body, headers=ADMIN).status_code == 403
    assert client.post("/v1/scan-batches", json=body | {"gateway": "gw-2"},
                       headers=GW1).status_code == 403  # fmt: skip
    assert client.post("/v1/scan-batches", json={"events": 3}, headers=GW1).status_code == 422
    assert client.post("/v1/scan-batches", json=body, headers=GW1).status_code == 200


@pytest.mark.parametrize("token", ["", "changeme", "short"])
def test_settings_refuse_missing_or_default_secrets(token: str) -> None:
    with pytest.raises(SettingsError):
        Settings(db_url="sqlite:///x.db", admin_token=token)
    with pytest.raises(SettingsError):
        Settings(db_url="sqlite:///x.db", admin_token=ADMIN_TOKEN, gateway_tokens={"gw": token})


def test_settings_load_from_toml_with_env_overrides(tmp_path: Path) -> None:
    path = tmp_path / "ledger.toml"
    path.write_text(
        'db_url = "sqlite:///ledger.db"\n'
        f'admin_token = "{ADMIN_TOKEN}"\n'
        '[gateways]\n"gw-1" = "gateway-one-token-0123456789"\n'
    )
    settings = Settings.from_toml(path, env={})
    assert settings.gateway_tokens == {"gw-1": "gateway-one-token-0123456789"}
    env = {"STOCKWIRE_DB_URL": "sqlite:///other.db"}
    assert Settings.from_toml(path, env=env).db_url == "sqlite:///other.db"
