"""Channel registry: create/update a webhook channel (marking all its SKUs dirty for a first
sync) and report per channel its last push, pending count, failures and last error."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from server.channels.outbox import ALL, mark, parse_locations
from server.db.schema import channel_dirty, channel_skus, channels, skus
from server.db.sql import iso
from server.errors import Conflict
from server.locations.service import real


def upsert(
    conn: Connection,
    name: str,
    kind: str,
    url: str,
    secret: str,
    safety_stock: int,
    scope: str | list[str],
    replace: bool = True,
) -> dict[str, Any]:
    """Create channel `name`, or replace its settings when `replace` (else 409 if it exists)."""
    if kind != "webhook":
        raise Conflict("unsupported channel", f"kind {kind!r}: only 'webhook' for now")
    if isinstance(scope, str) and scope != ALL:
        raise Conflict("bad locations", "locations is 'all' or a list of location codes")
    if isinstance(scope, list):
        for code in scope:
            real(conn, code)
    values = {
        "kind": kind,
        "url": url,
        "secret": secret,
        "safety_stock": safety_stock,
        "locations": orjson.dumps(scope).decode(),
    }
    existing = conn.execute(select(channels.c.id).where(channels.c.name == name)).scalar()
    if existing is None:
        insert = channels.insert().values(name=name, failures=0, pushes=0, last_error="", **values)
        existing = conn.execute(insert.returning(channels.c.id)).scalar_one()
    elif not replace:
        raise Conflict("channel exists", f"{name!r}: use PUT /v1/channels/{name} to replace it")
    else:
        conn.execute(channels.update().where(channels.c.id == existing).values(**values))
    mark(conn, int(existing), list(conn.execute(select(skus.c.id)).scalars()))
    return next(c for c in list_all(conn) if c["name"] == name)


def list_all(conn: Connection) -> list[dict[str, Any]]:
    pending: dict[int, int] = dict(
        conn.execute(
            select(channel_dirty.c.channel_id, func.count()).group_by(channel_dirty.c.channel_id)
        ).all()
    )
    pushed: dict[int, dict[str, Any]] = {}
    for r in conn.execute(
        select(channel_skus, skus.c.sku).join(skus, skus.c.id == channel_skus.c.sku_id)
    ):
        if r.pushed_at is not None:
            pushed.setdefault(r.channel_id, {})[r.sku] = {
                "available": r.available,
                "on_hand": r.on_hand,
                "version": r.version,
                "pushed_at": iso(r.pushed_at),
            }
    return [
        {
            "name": c.name,
            "kind": c.kind,
            "url": c.url,
            "safety_stock": int(c.safety_stock),
            "locations": parse_locations(c.locations),
            "last_push_at": iso(c.last_push_at),
            "pushes": int(c.pushes),
            "pending": int(pending.get(c.id, 0)),
            "failures": int(c.failures),
            "last_error": c.last_error,
            "last_pushed": pushed.get(c.id, {}),
        }
        for c in conn.execute(select(channels).order_by(channels.c.name))
    ]
