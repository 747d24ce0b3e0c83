"""`POST/GET /v1/tokens`, `DELETE /v1/tokens/{name}` (admin) and `GET /v1/whoami` (any token).

An issued token is in the answer to its POST and nowhere else: the ledger keeps its SHA-256."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from server.access import tokens
from server.access.tokens import Role
from server.deps import AdminOnly, Caller, DbDep
from server.openapi import example
from server.validation import Identifier, IdentifierPath

router = APIRouter()
_TOKEN = {
    "name": "packing-bench-2",
    "role": "clerk",
    "gateway": None,
    "created_at": "2026-12-03T19:59:39.645Z",
    "revoked_at": None,
}
_SECRET = "sw_5GjNlVad11lcJ4Sq9Ob5gpxoRVPknh6Jo3PtNvELINM"


class TokenBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "packing-bench-2", "role": "clerk"},
                {"name": "dock-gateway", "role": "gateway", "gateway": "gw-dock"},
            ]
        }
    )
    name: Identifier
    role: Role
    gateway: Identifier | None = None  # required for role gateway, refused for the others


@router.post("/v1/tokens", dependencies=AdminOnly, responses=example(_TOKEN | {"token": _SECRET}))
async def post_token(body: TokenBody, db: DbDep) -> dict[str, Any]:
    """Issue an API token; this answer is the only place the token itself appears.

    A gateway token names its gateway and may then post scan batches for that gateway only;
    the other roles name none (422 `bad role`). 409 `token exists` while a token of that name
    is active; a revoked name may be issued again."""
    return await db.write(tokens.issue, body.name, body.role, body.gateway or "")


@router.get("/v1/tokens", dependencies=AdminOnly, responses=example({"tokens": [_TOKEN]}))
async def get_tokens(db: DbDep) -> dict[str, Any]:
    """Issued tokens, revoked ones included: names and roles, never the secrets.

    The config file's admin and gateway tokens are not listed: they live in ledger.toml."""
    return {"tokens": await db.read(tokens.list_all)}


@router.delete(
    "/v1/tokens/{name}",
    dependencies=AdminOnly,
    responses=example(_TOKEN | {"revoked_at": "2026-12-03T19:59:39.731Z"}),
)
async def delete_token(name: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """Revoke a token: from now on it is 401 everywhere.

    404 `unknown token` when no active token has that name (the config file's tokens are
    changed in ledger.toml, not here)."""
    return await db.write(tokens.revoke, name)


@router.get(
    "/v1/whoami",
    responses=example({"name": "packing-bench-2", "role": "clerk", "gateway": None}),
)
async def whoami(who: Caller) -> dict[str, Any]:
    """The calling token's name and role; any valid token may ask, a gateway's included.

    A gateway token also names its gateway; the config file's tokens are called
    `admin (config)` and `gateway <id> (config)`."""
    return {"name": who.name, "role": who.role, "gateway": who.gateway or None}
