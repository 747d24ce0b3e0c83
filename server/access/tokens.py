"""API tokens an admin issues and revokes. Only a token's SHA-256 is stored; the token itself
is shown once, when it is made. A name is unique among tokens; once revoked, the name may be
issued again (the new token replaces the revoked row, whose secret stays dead)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, select

from server.db.schema import api_tokens
from server.db.sql import iso, now
from server.errors import Conflict, NotFound, Refused
from server.validation import check_identifier

Role = Literal["admin", "clerk", "readonly", "gateway"]
ROLES: tuple[Role, ...] = ("admin", "clerk", "readonly", "gateway")


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a token's name, its role, and for a gateway its gateway id."""

    name: str
    role: Role
    gateway: str = ""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(conn: Connection, name: str, role: str, gateway: str = "") -> dict[str, Any]:
    """A new token for `name`; the answer is the only place the token appears."""
    for what, value in [("token name", name)] + ([("gateway id", gateway)] if gateway else []):
        try:
            check_identifier(value)
        except ValueError as exc:
            raise Refused(f"bad {what}", f"{value!r}: {exc}") from None
    if role not in ROLES:
        raise Refused("bad role", f"{role!r}: a role is one of {', '.join(ROLES)}")
    if (role == "gateway") != bool(gateway):
        raise Refused("bad role", "a gateway token names its gateway; other roles do not")
    old = conn.execute(
        select(api_tokens.c.id, api_tokens.c.revoked_at).where(api_tokens.c.name == name)
    ).first()
    if old is not None and old.revoked_at is None:
        raise Conflict("token exists", f"a token named {name!r} is active; revoke it first")
    token = "sw_" + secrets.token_urlsafe(32)
    values = {
        "name": name,
        "role": role,
        "gateway": gateway,
        "token_sha256": digest(token),
        "created_at": now(),
        "revoked_at": None,
    }
    if old is None:
        conn.execute(api_tokens.insert().values(**values))
    else:  # a revoked name issued again: the new secret replaces the dead one
        conn.execute(api_tokens.update().where(api_tokens.c.id == old.id).values(**values))
    return {**get(conn, name), "token": token}


def revoke(conn: Connection, name: str) -> dict[str, Any]:
    done = conn.execute(
        api_tokens.update()
        .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now())
    ).rowcount
    if not done:
        raise NotFound("unknown token", f"no active token named {name!r}")
    return get(conn, name)


def lookup(conn: Connection, token: str) -> Principal | None:
    row = conn.execute(
        select(api_tokens.c.name, api_tokens.c.role, api_tokens.c.gateway).where(
            api_tokens.c.token_sha256 == digest(token), api_tokens.c.revoked_at.is_(None)
        )
    ).first()
    return Principal(row.name, row.role, row.gateway) if row else None


def get(conn: Connection, name: str) -> dict[str, Any]:
    row = conn.execute(select(api_tokens).where(api_tokens.c.name == name)).first()
    if row is None:
        raise NotFound("unknown token", name)
    return _doc(row)


def list_all(conn: Connection) -> list[dict[str, Any]]:
    return [_doc(r) for r in conn.execute(select(api_tokens).order_by(api_tokens.c.name))]


def _doc(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "role": row.role,
        "gateway": row.gateway or None,
        "created_at": iso(row.created_at),
        "revoked_at": iso(row.revoked_at),
    }
