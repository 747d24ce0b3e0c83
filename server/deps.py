"""FastAPI dependencies: the app's Database and who the caller is.

Every endpoint names the roles it admits: `Reader` (GET: admin, clerk, readonly), `Clerk`
(day-to-day writes: admin, clerk), `AdminOnly` (catalog, locations, channels, tokens) and
`GatewayDep` for `POST /v1/scan-batches` (the gateway id the token belongs to). A missing or
unknown token is 401; a known token of a role the endpoint does not admit is 403.
Tokens come from the config file (the admin token, `[gateways]`) or were issued through
`/v1/tokens` and are stored hashed.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from server.access.tokens import Principal, Role, lookup
from server.db.engine import Database
from server.settings import Settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "missing bearer token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def _configured(settings: Settings, token: str) -> Principal | None:
    found = None
    raw = token.encode("utf-8", "surrogatepass")
    if hmac.compare_digest(settings.admin_token.encode(), raw):
        found = Principal("admin (config)", "admin")
    for gateway, expected in settings.gateway_tokens.items():
        if hmac.compare_digest(expected.encode(), raw):
            found = Principal(f"gateway {gateway} (config)", "gateway", gateway)
    return found


async def principal(request: Request) -> Principal:
    """The caller, or 401."""
    token = _bearer(request)
    settings: Settings = request.app.state.settings
    found = _configured(settings, token)
    if found is None:
        found = await get_db(request).read(lookup, token)
    if found is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    return found


def allow(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting callers of these roles only (403 for the others)."""

    async def check(request: Request) -> Principal:
        who = await principal(request)
        if who.role not in roles:
            if who.role == "gateway":
                raise HTTPException(403, "a gateway token can only post scan batches")
            raise HTTPException(
                403, f"role {who.role!r} cannot call this endpoint (needs {' or '.join(roles)})"
            )
        return who

    return check


async def require_gateway(request: Request) -> str:
    who = await principal(request)
    if who.role != "gateway":
        raise HTTPException(403, f"the {who.role} token is not a gateway token")
    return who.gateway


DbDep = Annotated[Database, Depends(get_db)]
GatewayDep = Annotated[str, Depends(require_gateway)]
Caller = Annotated[Principal, Depends(principal)]
Reader: list[Any] = [Depends(allow("admin", "clerk", "readonly"))]
Clerk: list[Any] = [Depends(allow("admin", "clerk"))]
AdminOnly: list[Any] = [Depends(allow("admin"))]
Admin = AdminOnly  # old name
