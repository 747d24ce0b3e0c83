"""The OpenAPI schema documents every operation: a summary and description, a success example,
an example request body, and the bearer scheme with the roles it admits (all but /healthz and
the signed order webhooks).

When an operation falls short, the failure lists every offender as `METHOD /path: what is
missing`, so the whole list can be fixed at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.access.tokens import ROLES
from server.app import create_app
from tests.server.conftest import make_settings

# the operations without a token: the health check, and the channels' order webhooks (each
# platform signs the body instead: server/channels/inbound.py, test_channel_orders.py)
OPEN = {"/healthz", "/v1/channels/{name}/orders"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("openapi") / "ledger.db"
    app = create_app(make_settings(f"sqlite:///{path}", dispatcher=False))
    doc: dict[str, Any] = TestClient(app).get("/openapi.json").json()  # no lifespan: no DB
    return doc


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        node = schema["components"]["schemas"][name]
    return node


def has_example(schema: dict[str, Any], media: dict[str, Any]) -> bool:
    """An example on the media type, or on its schema (for an optional body or a union of
    bodies: on one of the models it may be)."""
    if media.get("example") is not None or media.get("examples"):
        return True
    body = resolve(schema, media.get("schema", {}))
    if body.get("examples") or body.get("example") is not None:
        return True
    branches = body.get("anyOf", []) + body.get("oneOf", [])
    return any(has_example(schema, {"schema": b}) for b in branches if b.get("type") != "null")


def auto_summary(op: dict[str, Any]) -> bool:
    """The summary FastAPI makes from the function name when the route gives none."""
    summary = op.get("summary", "")
    return not summary or op["operationId"].lower().startswith(
        summary.lower().replace(" ", "_") + "_"
    )


def shortcomings(schema: dict[str, Any], path: str, op: dict[str, Any]) -> list[str]:
    missing = []
    if auto_summary(op):
        missing.append("a summary (the docstring's first line, or summary=)")
    if not op.get("description", "").strip():
        missing.append("a description (docstring)")
    ok = [op["responses"][s] for s in ("200", "201") if s in op["responses"]]
    if not any(has_example(schema, m) for r in ok for m in r.get("content", {}).values()):
        missing.append("a 200/201 response example (responses={200: {'content': ...}})")
    if path not in OPEN and not op.get("security"):
        missing.append("a security requirement (a Reader/Clerk/AdminOnly/GatewayDep dependency)")
    body = op.get("requestBody")
    if body and not all(has_example(schema, m) for m in body.get("content", {}).values()):
        missing.append("a request body example (model_config json_schema_extra examples)")
    return missing


def test_every_operation_is_documented_with_examples_and_security(
    schema: dict[str, Any],
) -> None:
    offenders = [
        f"{method} {path}: missing {', '.join(missing)}"
        for method, path, op in operations(schema)
        if (missing := shortcomings(schema, path, op))
    ]
    report = f"{len(offenders)} operation(s) fall short:\n" + "\n".join(offenders)
    if offenders:
        print(report)  # shown with -s, and in the failure below
    assert not offenders, report


def test_the_bearer_scheme_is_declared_and_names_the_roles_of_each_operation(
    schema: dict[str, Any],
) -> None:
    assert schema["components"]["securitySchemes"]["bearer"] | {"description": ""} == {
        "type": "http", "scheme": "bearer", "description": ""}  # fmt: skip
    ops = {(m, p): op for m, p, op in operations(schema)}
    assert "security" not in ops[("GET", "/healthz")]
    admits = {key: op["security"][0]["bearer"] for key, op in ops.items() if "security" in op}
    assert admits[("POST", "/v1/scan-batches")] == ["gateway"]
    assert admits[("GET", "/v1/stock")] == ["admin", "clerk", "readonly"]
    assert admits[("POST", "/v1/purchase-orders")] == ["admin", "clerk"]
    assert admits[("POST", "/v1/tokens")] == ["admin"]
    assert admits[("GET", "/v1/whoami")] == []  # any valid token
    assert all(set(roles) <= set(ROLES) for roles in admits.values())
    post_sku = ops[("POST", "/v1/skus")]
    assert post_sku["description"].endswith("Roles: admin.")
    assert set(post_sku["responses"]) >= {"200", "401", "403", "422"}


def test_the_docs_page_is_served(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path}/l.db", dispatcher=False))
    page = TestClient(app).get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
