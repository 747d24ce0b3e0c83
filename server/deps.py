"""FastAPI dependencies: the app's Database and who the caller is.

Every endpoint names the roles it admits: `Reader` (GET: admin, clerk, readonly), `Clerk`
(day-to-day writes: admin, clerk), `AdminOnly` (catalog, locations, channels, tokens) and
`GatewayDep` for `POST /v1/scan-batches` (the gateway id the token belongs to). A missing or
unknown token is 401; a known token of a role the endpoint does not admit is 403.
Tokens come from the config file (the admin token, `[gateways]`) or were issued through
`/v1/tokens` and are stored hashed. The token is read through FastAPI's `HTTPBearer`, so the
OpenAPI schema declares the `bearer` scheme and lists, per operation, the roles it admits.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.access.tokens import Principal, Role, lookup
from server.db.engine import Database
from server.settings import Settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token: the admin token or a gateway's from the config file, or one "
    "issued by `POST /v1/tokens` or `stockwire ledger token create`.",
)


def _bearer(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_SCHEME)],
) -> str:
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise HTTPException(
            401,
            "missing bearer token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token


def _configured(settings: Settings, token: str) -> Principal | None:
    found = None
    raw = token.encode("utf-8", "surrogatepass")
    if hmac.compare_digest(settings.admin_token.encode(), raw):
        found = Principal("admin (config)", "admin")
    for gateway, expected in settings.gateway_tokens.items():
        if hmac.compare_digest(expected.encode(), raw):
            found = Principal(f"gateway {gateway} (config)", "gateway", gateway)
    return found


async def principal(request: Request, token: Annotated[str, Depends(_bearer)]) -> Principal:
    """The caller, or 401."""
    settings: Settings = request.app.state.settings
    found = _configured(settings, token)
    if found is None:
        found = await get_db(request).read(lookup, token)
    if found is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    return found


Caller = Annotated[Principal, Depends(principal)]


def allow(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers of these roles only (403 for the others). The roles are
    the operation's security scopes in the OpenAPI schema (role names, as OpenAPI 3.1 allows)."""

    # a default, not an Annotated hint: postponed annotations cannot see the closure's roles
    scoped = Security(principal, scopes=roles)

    async def check(who: Principal = scoped) -> Principal:
        if who.role not in roles:
            if who.role == "gateway":
                raise HTTPException(403, "a gateway token can only post scan batches")
            raise HTTPException(
                403, f"role {who.role!r} cannot call this endpoint (needs {' or '.join(roles)})"
            )
        return who

    return check


async def require_gateway(
    who: Annotated[Principal, Security(principal, scopes=["gateway"])],
) -> str:
    if who.role != "gateway":
        raise HTTPException(403, f"the {who.role} token is not a gateway token")
    return who.gateway


DbDep = Annotated[Database, Depends(get_db)]
GatewayDep = Annotated[str, Depends(require_gateway)]
Reader: list[Any] = [Depends(allow("admin", "clerk", "readonly"))]
Clerk: list[Any] = [Depends(allow("admin", "clerk"))]
AdminOnly: list[Any] = [Depends(allow("admin"))]
Admin = AdminOnly  # old name
