"""Roles and tokens: who may call what (readonly reads, clerk does day-to-day writes, admin
manages catalog, locations, channels and tokens, a gateway only posts its own scan batches),
tokens issued, used and revoked over the API and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.access.tokens import ROLES
from server.app import create_app
from tests.server.conftest import make_settings
from tests.server.support import ADMIN, GW1, Api, scan
from tests.server.test_check_and_cli import run

BODY_METHODS = ("post", "put", "patch")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(api: Api, name: str, role: str, gateway: str | None = None) -> dict[str, str]:
    body: dict[str, Any] = {"name": name, "role": role} | ({"gateway": gateway} if gateway else {})
    return bearer(api.post("/v1/tokens", body)["token"])


@pytest.fixture
def tokens(api: Api) -> dict[str, dict[str, str]]:
    """A DB-issued token of every role (the gateway's for gw-1)."""
    return {role: issue(api, f"t-{role}", role, "gw-1" if role == "gateway" else None)
            for role in ROLES}  # fmt: skip


@pytest.fixture
def lenient(api: Api, db_url: str) -> Iterator[TestClient]:
    """A second app on the same ledger that answers 500 instead of raising: the matrix calls
    every endpoint with junk, and only 401/403 matter there."""
    app = create_app(make_settings(db_url, dispatcher=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def operations(api: Api) -> list[tuple[str, str, list[str] | None]]:
    """(method, path with every parameter set to 1, roles) of every operation in the schema;
    roles are the bearer scheme's scopes ([] any token, None no token)."""
    found = []
    for path, ops in api.client.get("/openapi.json").json()["paths"].items():
        for method, op in ops.items():
            security = op.get("security")
            roles = None if security is None else [r for req in security for r in req["bearer"]]
            found.append((method, re.sub(r"\{[^}]+\}", "1", path), roles))
    return found


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body: dict[str, Any] = {"json": {}} if method in BODY_METHODS else {}
    return client.request(method.upper(), path, headers=headers, **body)


def test_every_operation_but_healthz_wants_a_token(api: Api, lenient: TestClient) -> None:
    ops = operations(api)
    # the channels' order webhooks take no token: their platforms sign them instead
    assert [path for _, path, roles in ops if roles is None] == [
        "/healthz",
        "/v1/channels/1/orders",
    ]
    unsigned = call(lenient, "post", "/v1/channels/1/orders", {})
    assert unsigned.status_code == 401 and unsigned.json()["reason"] == "bad signature"
    for method, path, roles in ops:
        if roles is not None:
            response = call(lenient, method, path, {})
            assert response.status_code == 401, (method, path, response.text)
            assert "bearer" in response.json()["detail"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_admitted_exactly_where_the_schema_says(
    api: Api, lenient: TestClient, tokens: dict[str, dict[str, str]], role: str
) -> None:
    wrong: list[str] = []
    for method, path, roles in operations(api):
        if roles is None:
            continue
        response = call(lenient, method, path, tokens[role])
        admitted = not roles or role in roles
        if admitted == (response.status_code in (401, 403)):
            wrong.append(f"{method.upper()} {path} (needs {roles}): {response.text[:200]}")
        elif not admitted:
            assert response.json()["detail"] == (
                f"the {role} token is not a gateway token" if roles == ["gateway"]
                else "a gateway token can only post scan batches" if role == "gateway"
                else f"role {role!r} cannot call this endpoint (needs {' or '.join(roles)})"
            )  # fmt: skip
    assert not wrong, "\n".join(wrong)


def test_readonly_may_read_everything_it_is_given_but_write_nothing(
    api: Api, lenient: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    api.seed()
    api.scan("dock", "5901234123457", "receive", "WH1-A-01", qty=4)
    ro = tokens["readonly"]
    stock = api.client.get("/v1/stock", params={"sku": "PHC-01"}, headers=ro).json()["stock"]
    assert [(r["loc"], r["on_hand"]) for r in stock] == [("WH1-A-01", 4)]
    assert api.client.get("/v1/skus", headers=ro).status_code == 200
    writes = [(m, p) for m, p, roles in operations(api) if m != "get" and roles is not None]
    assert len(writes) >= 10
    for method, path in writes:
        response = call(lenient, method, path, ro)
        assert response.status_code == 403, (method, path)
        assert "readonly" in response.json()["detail"]
    assert api.on_hand("PHC-01") == 4


def test_a_clerk_does_the_day_to_day_writes_but_not_the_admins(
    api: Api, tokens: dict[str, dict[str, str]]
) -> None:
    api.seed()
    clerk, client = tokens["clerk"], api.client
    po = {"ref": "PO-77", "lines": [{"sku": "PHC-01", "qty": 10, "unit_cost": "2.00"}]}
    assert client.post("/v1/purchase-orders", json=po, headers=clerk).status_code == 200
    stocktake = {"ref": "OPEN-1", "lines": [{"sku": "PHC-01", "loc": "WH1-A-01", "qty": 7}]}
    assert client.post("/v1/stocktakes", json=stocktake, headers=clerk).status_code == 200
    assert api.on_hand("PHC-01", "WH1-A-01") == 7
    refused = api.scan("hs-1", "4006381333931", "receive", "WH1-A-01")  # not in the catalog
    assert refused["reason"] == "unknown barcode"
    qid = api.get("/v1/quarantine")["entries"][0]["id"]
    replay = client.post(f"/v1/quarantine/{qid}/replay", headers=clerk)
    assert replay.status_code not in (401, 403), replay.text  # admitted (still unknown: refused)
    for path, body in [
        ("/v1/channels", {"name": "shop", "url": "https://example.com/h", "secret": "s" * 20}),
        ("/v1/locations", {"code": "WH9"}),
        ("/v1/skus", {"sku": "NEW-1"}),
        ("/v1/skus/PHC-01/gtins", {"gtin": "4006381333931"}),
        (f"/v1/quarantine/{qid}/map", {"sku": "PHC-01", "multiplier": 12}),
        ("/v1/tokens", {"name": "mine", "role": "admin"}),
    ]:
        response = client.post(path, json=body, headers=clerk)
        assert response.status_code == 403, path
        assert response.json()["detail"] == "role 'clerk' cannot call this endpoint (needs admin)"
    assert client.get("/v1/tokens", headers=clerk).status_code == 403
    assert client.delete("/v1/tokens/t-admin", headers=clerk).status_code == 403


def test_an_issued_token_works_until_it_is_revoked_and_its_name_can_be_issued_again(
    api: Api,
) -> None:
    client = api.client
    made = api.post("/v1/tokens", {"name": "bench-2", "role": "clerk"})
    assert made["token"].startswith("sw_") and made["revoked_at"] is None
    headers = bearer(made["token"])
    assert client.get("/v1/whoami", headers=headers).json() == {
        "name": "bench-2", "role": "clerk", "gateway": None}  # fmt: skip
    assert client.get("/v1/stock", headers=headers).status_code == 200
    again = client.post("/v1/tokens", json={"name": "bench-2", "role": "readonly"}, headers=ADMIN)
    assert again.status_code == 409 and again.json()["reason"] == "token exists"

    revoked = client.delete("/v1/tokens/bench-2", headers=ADMIN).json()
    assert revoked["name"] == "bench-2" and revoked["revoked_at"] is not None
    gone = client.get("/v1/stock", headers=headers)
    assert gone.status_code == 401 and gone.json()["detail"] == "unknown token"
    assert client.delete("/v1/tokens/bench-2", headers=ADMIN).status_code == 404
    listed = api.get("/v1/tokens")["tokens"]
    assert [(t["name"], t["role"], t["revoked_at"] is not None) for t in listed] == [
        ("bench-2", "clerk", True)]  # fmt: skip
    assert all("token" not in t for t in listed)  # the secret is never shown again

    new = api.post("/v1/tokens", {"name": "bench-2", "role": "readonly"})
    assert new["token"] != made["token"] and new["revoked_at"] is None
    assert client.get("/v1/whoami", headers=bearer(new["token"])).json()["role"] == "readonly"
    assert client.get("/v1/stock", headers=headers).status_code == 401  # the old one stays dead


def test_token_requests_are_checked(api: Api) -> None:
    bad_role = api.post("/v1/tokens", {"name": "x", "role": "root"}, status=422)
    assert bad_role["reason"] == "invalid request"
    no_gateway = api.post("/v1/tokens", {"name": "gw", "role": "gateway"}, status=422)
    assert no_gateway["detail"] == "bad role: a gateway token names its gateway; other roles do not"
    clerk_gateway = api.post("/v1/tokens", {"name": "c", "role": "clerk", "gateway": "gw-1"},
                             status=422)  # fmt: skip
    assert clerk_gateway["reason"] == "bad role"
    assert api.post("/v1/tokens", {"name": "a/b", "role": "clerk"}, status=422)
    assert api.client.delete("/v1/tokens/admin (config)", headers=ADMIN).status_code == 404
    assert api.get("/v1/tokens") == {"tokens": []}


def test_a_gateway_token_posts_scan_batches_for_its_own_gateway_only(api: Api) -> None:
    api.seed()
    client = api.client
    dock = issue(api, "dock-gateway", "gateway", "gw-dock")
    assert client.get("/v1/whoami", headers=dock).json() == {
        "name": "dock-gateway", "role": "gateway", "gateway": "gw-dock"}  # fmt: skip
    event = scan("hs-dock", 1, "5901234123457", "receive", "WH1-A-01", qty=3)
    ok = client.post("/v1/scan-batches", json={"gateway": "gw-dock", "events": [event]},
                     headers=dock)  # fmt: skip
    assert [r["status"] for r in ok.json()["results"]] == ["booked"]
    other = client.post("/v1/scan-batches", json={"gateway": "gw-1", "events": [event]},
                        headers=dock)  # fmt: skip
    assert other.status_code == 403
    assert other.json()["detail"] == "this token belongs to gateway 'gw-dock', not 'gw-1'"
    for method, path in [("get", "/v1/stock"), ("post", "/v1/stocktakes"), ("get", "/v1/skus")]:
        response = call(client, method, path, dock)
        assert response.status_code == 403
        assert response.json()["detail"] == "a gateway token can only post scan batches"
    assert client.post("/v1/scan-batches", json={"gateway": "gw-1", "events": []},
                       headers=ADMIN).status_code == 403  # fmt: skip
    assert api.on_hand("PHC-01", "WH1-A-01") == 3


def test_the_config_files_tokens_say_who_they_are(api: Api) -> None:
    assert api.get("/v1/whoami") == {"name": "admin (config)", "role": "admin", "gateway": None}
    assert api.client.get("/v1/whoami", headers=GW1).json() == {
        "name": "gateway gw-1 (config)", "role": "gateway", "gateway": "gw-1"}  # fmt: skip
    assert api.client.get("/v1/whoami").status_code == 401


def test_token_create_list_revoke_on_the_cli(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["ledger", "token", "create", "--db", db_url, "--name", "night-shift",
                "--role", "clerk"]) == 0  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert (made["name"], made["role"], made["token"][:3]) == ("night-shift", "clerk", "sw_")
    headers = bearer(made["token"])
    assert api.client.get("/v1/whoami", headers=headers).json()["name"] == "night-shift"

    assert run(["ledger", "token", "list", "--db", db_url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["name"], t["role"], t["revoked_at"]) for t in listed] == [
        ("night-shift", "clerk", None)]  # fmt: skip
    assert "token" not in listed[0]

    assert run(["ledger", "token", "create", "--db", db_url, "--name", "gw",
                "--role", "gateway"]) == 1  # fmt: skip
    assert "bad role: a gateway token names its gateway" in capsys.readouterr().err
    assert run(["ledger", "token", "create", "--db", db_url, "--name", "a/b",
                "--role", "clerk"]) == 1  # fmt: skip
    assert "bad token name: 'a/b': an identifier must not contain '/'" in capsys.readouterr().err
    assert run(["ledger", "token", "revoke", "--db", db_url, "--name", "night-shift"]) == 0
    assert json.loads(capsys.readouterr().out)["revoked_at"] is not None
    assert api.client.get("/v1/whoami", headers=headers).status_code == 401
    assert run(["ledger", "token", "revoke", "--db", db_url, "--name", "night-shift"]) == 1
    assert "unknown token: no active token named 'night-shift'" in capsys.readouterr().err
