"""FastAPI dependencies: the app's Database and the two kinds of bearer token.

Admin endpoints take `AdminDep`; `POST /v1/scan-batches` takes `GatewayDep` (the gateway id
the token belongs to). Unknown or missing token -> 401; the other kind of token -> 403.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

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


def _gateway_of(settings: Settings, token: str) -> str | None:
    found = None
    for gateway, expected in settings.gateway_tokens.items():
        if hmac.compare_digest(expected.encode(), token.encode()):
            found = gateway
    return found


def require_admin(request: Request) -> None:
    settings: Settings = request.app.state.settings
    token = _bearer(request)
    if hmac.compare_digest(settings.admin_token.encode(), token.encode()):
        return
    if _gateway_of(settings, token) is not None:
        raise HTTPException(403, "a gateway token cannot call admin endpoints")
    raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})


def require_gateway(request: Request) -> str:
    settings: Settings = request.app.state.settings
    token = _bearer(request)
    gateway = _gateway_of(settings, token)
    if gateway is not None:
        return gateway
    if hmac.compare_digest(settings.admin_token.encode(), token.encode()):
        raise HTTPException(403, "the admin token is not a gateway token")
    raise HTTPException(401, "unknown gateway token", headers={"WWW-Authenticate": "Bearer"})


DbDep = Annotated[Database, Depends(get_db)]
GatewayDep = Annotated[str, Depends(require_gateway)]
Admin = [Depends(require_admin)]
