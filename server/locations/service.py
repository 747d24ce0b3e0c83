"""Location lookup and creation. Owns the virtual locations and in-transit-per-transfer ones.

Real locations form a tree (server.locations.tree has its rules): site → warehouse → zone →
bin. Stock is booked at bins only (`stock_bin`); a bin may stand alone (no parent), as every
location created before the tree did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import locations
from server.db.sql import insert_ignore
from server.errors import Conflict, NotFound, Refused
from server.locations.tree import place

SUPPLIER = "supplier"
CUSTOMER = "customer"
INVENTORY_LOSS = "inventory-loss"
COUNT_ADJUSTMENT = "count-adjustment"
IN_TRANSIT = "in-transit"
QUARANTINE = "quarantine"
VIRTUAL = (SUPPLIER, CUSTOMER, INVENTORY_LOSS, COUNT_ADJUSTMENT, IN_TRANSIT, QUARANTINE)
_CODE_CHARS = 64  # locations.code
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Loc:
    """A location as booking sees it. `covered`: stock must exist before it can leave."""

    id: int
    code: str
    virtual: bool
    covered: bool
    negative: str = "refuse"  # refuse | allow (book below zero and flag the movement)
    kind: str = "bin"  # site | warehouse | zone | bin; a virtual one's kind is its code


def _loc(row: Any) -> Loc:
    return Loc(
        id=row.id,
        code=row.code,
        virtual=row.virtual,
        covered=row.covered,
        negative=row.negative,
        kind=row.kind,
    )


def ensure_virtual(conn: Connection) -> None:
    for code in VIRTUAL:
        values = {"code": code, "virtual": True, "covered": False, "kind": code}
        insert_ignore(conn, locations, values, ["code"])


def find(conn: Connection, code: str) -> Loc | None:
    row = conn.execute(select(locations).where(locations.c.code == code)).first()
    return _loc(row) if row else None


def virtual(conn: Connection, code: str) -> Loc:
    loc = find(conn, code)
    if loc is None or not loc.virtual:
        raise RuntimeError(f"virtual location {code} missing: schema not initialised")
    return loc


def real(conn: Connection, code: str) -> Loc:
    """A real location named by a scan or an admin; Refused `unknown location` otherwise."""
    loc = find(conn, code) if code else None
    if loc is None or loc.virtual:
        raise Refused("unknown location", f"no location {code!r}" if code else "no location set")
    return loc


def stock_bin(conn: Connection, code: str) -> Loc:
    """A real location stock may be booked at: a bin. Refused `unknown location` otherwise."""
    return require_bin(real(conn, code))


def require_bin(loc: Loc) -> Loc:
    if loc.kind != "bin":
        raise Refused("unknown location", f"{loc.code} is a {loc.kind}: stock is booked at bins")
    return loc


def transit(conn: Connection, ref: str, create: bool) -> Loc | None:
    """The in-transit location of one transfer reference (child of `in-transit`)."""
    code = f"{IN_TRANSIT}/{ref}"
    if len(code) > _CODE_CHARS:
        if not create:
            return None
        limit = _CODE_CHARS - len(IN_TRANSIT) - 1
        detail = f"{ref!r}: a transfer reference is at most {limit} characters"
        raise Refused("unknown reference", detail)
    if create:
        parent = virtual(conn, IN_TRANSIT)
        values = {
            "code": code,
            "virtual": True,
            "covered": True,
            "parent_id": parent.id,
            "kind": IN_TRANSIT,
        }
        insert_ignore(conn, locations, values, ["code"])
    return find(conn, code)


def upsert(
    conn: Connection,
    code: str,
    parent: str | None,
    kind: str = "bin",
    negative: str = "refuse",
) -> dict[str, Any]:
    """Create the location, or replace an existing one's kind, parent and policy."""
    if code in VIRTUAL:
        raise Conflict("bad location", f"{code!r} is reserved for a virtual location")
    if not _CODE.match(code):
        raise Refused(
            "bad location",
            f"{code!r}: a location code is 1-64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit",
        )
    existing = find(conn, code)
    if existing is not None and existing.virtual:
        raise Conflict("bad location", f"{code!r} is virtual")
    place(conn, code, existing.id if existing else None, kind, parent, negative)
    return get(conn, code)


def update(conn: Connection, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change some of an existing location's kind, parent (None: detach) and policy."""
    loc = find(conn, code)
    if loc is None:
        raise NotFound("unknown location", code)
    if loc.virtual:
        raise Conflict("bad location", f"{code!r} is virtual: its place and policy are fixed")
    row = conn.execute(select(locations.c.parent_id).where(locations.c.id == loc.id)).one()
    parent = None
    if row.parent_id is not None:
        parent = conn.execute(
            select(locations.c.code).where(locations.c.id == row.parent_id)
        ).scalar_one()
    place(
        conn,
        code,
        loc.id,
        changes.get("kind") or loc.kind,
        changes.get("parent", parent),
        changes.get("negative") or loc.negative,
    )
    return get(conn, code)


def get(conn: Connection, code: str) -> dict[str, Any]:
    for doc in list_all(conn, include_virtual=True):
        if doc["code"] == code:
            return doc
    raise NotFound("unknown location", code)


def list_all(conn: Connection, include_virtual: bool = False) -> list[dict[str, Any]]:
    rows = conn.execute(select(locations).order_by(locations.c.code)).all()
    codes = {r.id: r.code for r in rows}
    return [
        {
            "code": r.code,
            "parent": codes.get(r.parent_id),
            "kind": r.kind,
            "virtual": bool(r.virtual),
            "negative": r.negative,
        }
        for r in rows
        if include_virtual or not r.virtual
    ]
