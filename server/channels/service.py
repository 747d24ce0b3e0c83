"""Channel registry: create/update a channel (marking all its SKUs dirty for a first sync),
check each kind's settings, and report per channel its last push, pending count, lag (the
oldest change not yet pushed), failures and last error."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from server.catalog.service import sku_id as find_sku
from server.channels.outbox import ALL, mark, parse_locations
from server.db import sql
from server.db.schema import (
    channel_dirty,
    channel_skus,
    channel_tokens,
    channels,
    oversells,
    skus,
)
from server.db.sql import insert_ignore, iso, now
from server.errors import Conflict, NotFound, Refused
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
    settings: dict[str, Any] | None = None,
    allocation_pct: int = 100,
    order_secret: str | None = None,
) -> dict[str, Any]:
    """Create channel `name`, or replace its settings when `replace` (else 409 if it exists).
    A replace without an order secret keeps the channel's; one that changes the kind or URL
    forgets what was learned of the old platform (its ids for the SKUs)."""
    settings = check_settings(kind, settings or {})
    if kind == "woocommerce" and not re.fullmatch(r"ck_[0-9a-zA-Z]+:cs_[0-9a-zA-Z]+", secret):
        raise Refused("bad secret", "woocommerce's secret is the REST API key: ck_...:cs_...")
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
        "settings": orjson.dumps(settings).decode(),
        "allocation_pct": allocation_pct,
    }
    if order_secret is not None:
        values["order_secret"] = order_secret
    old = conn.execute(
        select(channels.c.id, channels.c.kind, channels.c.url).where(channels.c.name == name)
    ).one_or_none()
    existing = None if old is None else old.id
    if old is not None and replace and (old.kind, old.url) != (kind, url):
        conn.execute(
            channel_skus.update()
            .where(channel_skus.c.channel_id == old.id)
            .values(remote_id=None, remote_qty=None)
        )
    if existing is None:
        insert = channels.insert().values(name=name, failures=0, pushes=0, last_error="", **values)
        existing = conn.execute(insert.returning(channels.c.id)).scalar_one()
    elif not replace:
        raise Conflict("channel exists", f"{name!r}: use PUT /v1/channels/{name} to replace it")
    else:
        conn.execute(channels.update().where(channels.c.id == existing).values(**values))
    mark(conn, int(existing), list(conn.execute(select(skus.c.id)).scalars()))
    return next(c for c in list_all(conn) if c["name"] == name)


_GID_LOCATION = re.compile(r"gid://shopify/Location/[0-9]+")
_API_VERSION = re.compile(r"20[0-9]{2}-(01|04|07|10)")


def check_settings(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """A kind's settings as stored, or 422 naming what is wrong. webhook, woocommerce: none;
    shopify: `location_id` (the Location's gid) and optionally `api_version` (YYYY-01/04/07/10);
    shopee: `partner_id`, `shop_id` and optionally `location_id` and `push_url` (the callback
    URL registered for its order push, if this ledger is reached under another address)."""
    if kind in ("webhook", "woocommerce"):
        known: set[str] = set()
    elif kind == "shopee":
        known = {"partner_id", "shop_id", "location_id", "push_url"}
        for key in ("partner_id", "shop_id"):
            if not str(settings.get(key, "")).isdigit():
                raise Refused("bad settings", f"shopee needs {key}, a number")
    elif kind == "shopify":
        known = {"location_id", "api_version"}
        if not _GID_LOCATION.fullmatch(str(settings.get("location_id", ""))):
            raise Refused(
                "bad settings", "shopify needs location_id, e.g. gid://shopify/Location/123"
            )
        version = settings.get("api_version")
        if version is not None and not _API_VERSION.fullmatch(str(version)):
            raise Refused("bad settings", f"api_version {version!r}: a release, e.g. 2026-10")
    else:
        kinds = "webhook, shopify, woocommerce or shopee"
        raise Refused("unsupported channel", f"kind {kind!r}: {kinds}")
    unknown = sorted(set(settings) - known)
    if unknown:
        raise Refused("bad settings", f"{kind} takes no {', '.join(unknown)}")
    return settings


def list_all(conn: Connection) -> list[dict[str, Any]]:
    pending: dict[int, tuple[int, Any]] = {
        r[0]: (int(r[1]), r[2])
        for r in conn.execute(
            select(
                channel_dirty.c.channel_id, func.count(), func.min(channel_dirty.c.changed_at)
            ).group_by(channel_dirty.c.channel_id)
        )
    }
    stamp = now()
    oversold = oversell_counts(conn)
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
            "allocation_pct": int(c.allocation_pct),
            "locations": parse_locations(c.locations),
            "last_push_at": iso(c.last_push_at),
            "pushes": int(c.pushes),
            "pending": pending.get(c.id, (0, None))[0],
            "lag_s": _lag(stamp, pending.get(c.id, (0, None))[1]),
            "settings": orjson.loads(c.settings or "{}"),
            "failures": int(c.failures),
            "last_error": c.last_error,
            "orders_in": bool(c.order_secret) or c.kind in ("webhook", "shopee"),
            "oversells": oversold.get(c.id, 0),
            "last_pushed": pushed.get(c.id, {}),
        }
        for c in conn.execute(select(channels).order_by(channels.c.name))
    ]


def _lag(stamp: Any, oldest: Any) -> float:
    """Seconds since the oldest change the channel has not been told of (0 when none)."""
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None and stamp.tzinfo is not None:
        oldest = oldest.replace(tzinfo=stamp.tzinfo)
    return round(max(0.0, (stamp - oldest).total_seconds()), 3)


_OVERRIDES = ("safety_stock", "allocation_pct", "max_qty")


def channel_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(channels.c.id).where(channels.c.name == name)).scalar()
    if found is None:
        raise NotFound("unknown channel", name)
    return int(found)


def set_override(conn: Connection, name: str, sku: str, values: dict[str, int | None]) -> dict:
    """Set (or with None, clear) this SKU's own safety_stock / allocation_pct / max_qty on the
    channel; the SKU is pushed again with them."""
    cid, sid = channel_id(conn, name), find_sku(conn, sku)
    key = {"channel_id": cid, "sku_id": sid}
    insert_ignore(conn, channel_skus, {**key, "version": 0}, list(key))
    conn.execute(
        channel_skus.update()
        .where(channel_skus.c.channel_id == cid, channel_skus.c.sku_id == sid)
        .values({f"ov_{k}": values.get(k) for k in _OVERRIDES})
    )
    mark(conn, cid, [sid])
    found = [o for o in overrides(conn, name) if o["sku"] == sku]
    return found[0] if found else {"sku": sku} | dict.fromkeys(_OVERRIDES)


def overrides(conn: Connection, name: str) -> list[dict[str, Any]]:
    """The channel's per-SKU overrides (SKUs without one are left out)."""
    cid = channel_id(conn, name)
    rows = conn.execute(
        select(channel_skus, skus.c.sku)
        .join(skus, skus.c.id == channel_skus.c.sku_id)
        .where(channel_skus.c.channel_id == cid)
        .order_by(skus.c.sku)
    )
    out = []
    for r in rows:
        ov = {k: getattr(r, f"ov_{k}") for k in _OVERRIDES}
        if any(v is not None for v in ov.values()):
            out.append({"sku": r.sku} | {k: None if v is None else int(v) for k, v in ov.items()})
    return out


def oversell_counts(conn: Connection) -> dict[int, int]:
    """Oversold order lines per channel id."""
    query = select(oversells.c.channel_id, func.count()).group_by(oversells.c.channel_id)
    return {int(c): int(n) for c, n in conn.execute(query)}


def save_tokens(conn: Connection, channel_id: int, tokens: dict[str, Any]) -> None:
    key = {"channel_id": channel_id}
    values = {k: tokens[k] for k in ("access_token", "refresh_token", "expires_at")}
    sql.upsert(conn, channel_tokens, key | values, list(key), values)


def set_tokens(conn: Connection, name: str, access: str, refresh: str, expires_in: int) -> dict:
    """Keep an OAuth platform's tokens for the channel (shopee: from its authorization); its
    adapter refreshes them from then on. Every SKU is pushed again."""
    cid = channel_id(conn, name)
    kind = conn.execute(select(channels.c.kind).where(channels.c.id == cid)).scalar_one()
    if kind != "shopee":
        raise Refused("no tokens", f"a {kind} channel takes no tokens (shopee does)")
    expires_at = int(now().timestamp()) + expires_in
    save_tokens(conn, cid, {"access_token": access, "refresh_token": refresh,
                            "expires_at": expires_at})  # fmt: skip
    mark(conn, cid, list(conn.execute(select(skus.c.id)).scalars()))
    return {"channel": name, "expires_at": iso(datetime.fromtimestamp(expires_at, UTC))}
