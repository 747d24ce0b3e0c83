"""The finish every operation gets in the OpenAPI schema: its summary from the first line of its
docstring (unless the route names one), the roles it admits (the bearer scheme's scopes, set by
server.deps) spelled out in its description, and its 401/403 answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_ERROR = {"type": "object", "properties": {"detail": {"type": "string"}}}
_METHODS = ("get", "put", "post", "delete", "patch")


def _error(description: str, detail: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ERROR, "example": {"detail": detail}}},
    }


_UNAUTHORIZED = _error(
    "No token, or one the ledger does not know (mistyped, revoked)",
    "missing bearer token: send 'Authorization: Bearer <token>'",
)


def _auto_summary(op: dict[str, Any]) -> bool:
    """FastAPI's summary made from the function name (`post_sku` → "Post Sku")."""
    summary, op_id = op.get("summary", ""), op.get("operationId", "")
    return not summary or op_id.lower().startswith(summary.lower().replace(" ", "_") + "_")


def _forbidden(roles: list[str]) -> dict[str, Any]:
    if roles == ["gateway"]:
        detail = "the admin token is not a gateway token"
    elif "readonly" in roles:
        detail = "a gateway token can only post scan batches"
    else:
        detail = f"role 'readonly' cannot call this endpoint (needs {' or '.join(roles)})"
    return _error(f"A token of a role other than {', '.join(roles)}", detail)


def finish_operation(op: dict[str, Any]) -> None:
    description = op.get("description", "").strip()
    if description and _auto_summary(op):
        first, _, rest = description.partition("\n")
        op["summary"] = first.strip()
        description = rest.strip() or first.strip()
    for requirement in op.get("security", []):
        roles = requirement.get("bearer")
        if roles is None:
            continue
        admits = ", ".join(roles) if roles else "any valid token"
        description = f"{description}\n\nRoles: {admits}.".lstrip()
        responses = op.setdefault("responses", {})
        responses.setdefault("401", _UNAUTHORIZED)
        if roles:
            responses.setdefault("403", _forbidden(roles))
    if description:
        op["description"] = description


def finish(app: FastAPI) -> None:
    """Make `app.openapi()` serve the finished schema (call once, after the routers)."""
    plain = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = plain()  # FastAPI caches it until the routes change
        if not any(schema is d for d in done):
            for ops in schema.get("paths", {}).values():
                for method in _METHODS:
                    if method in ops:
                        finish_operation(ops[method])
            done[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def example(doc: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=example({...})`: the JSON answer an operation gives, shown in the schema."""
    return {status: {"content": {"application/json": {"example": doc}}}}
