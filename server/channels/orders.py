"""Channel orders in: a verified order event becomes a reservation, a cancel releases it.

Owns what the ledger does with an order a channel has already sold (server/channels/inbound.py
verifies and reads each platform's webhook into an `OrderEvent`):
- each delivery is taken once (table channel_events, keyed by the platform's delivery id): a
  redelivery answers `duplicate` and changes nothing;
- an order reserves its lines as order `<channel>:<order id>` (reservations are idempotent
  per order × SKU, so an order.updated after order.created reserves nothing twice); what is
  not available is still sold, so the line holds what there is and the rest is an
  **oversell**: a row in table oversells (channel, order, SKU, ordered, short), a warning in
  the log, and the channel's `oversells` count;
- a line whose SKU the ledger does not know is reported (`unknown_skus`), the others reserved;
- a cancel (or a refund/failed status) releases the order's open lines.
The reservation marks the SKU dirty, so every channel is told the new quantity at once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, select

from server.channels.service import channel_id
from server.db.schema import channel_events, oversells, skus
from server.db.schema import reservations as lines_table
from server.db.sql import insert_ignore, iso, now
from server.errors import NotFound, Refused
from server.reservations import service as reservations
from server.reservations.service import LineIn
from server.validation import IDENTIFIER_CHARS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderEvent:
    key: str  # the platform's delivery id: the same for a redelivery
    order: str  # the channel's own order id
    action: Literal["reserve", "cancel", "ignore"]
    lines: list[LineIn] = field(default_factory=list)
    note: str = ""  # why an event is ignored (a ping, an order status that holds nothing)


def order_ref(channel: str, order: str) -> str:
    ref = f"{channel}:{order}"
    if len(ref) > IDENTIFIER_CHARS:
        raise Refused("order id too long", f"{ref!r} is over {IDENTIFIER_CHARS} characters")
    return ref


def take(conn: Connection, channel: str, event: OrderEvent) -> dict[str, Any]:
    """Apply one verified order event of `channel` (once per delivery)."""
    cid = channel_id(conn, channel)
    ref = order_ref(channel, event.order) if event.order else ""
    out: dict[str, Any] = {"channel": channel, "order": ref, "event": event.key}
    if event.action == "ignore" and not event.key:  # nothing to remember (a ping)
        return out | {"status": "ignored", "note": event.note}
    seen = {"channel_id": cid, "event_key": _key(event.key), "received_at": now()}
    if not insert_ignore(conn, channel_events, seen, ["channel_id", "event_key"]):
        return out | {"status": "duplicate"}
    if event.action == "ignore":
        return out | {"status": "ignored", "note": event.note}
    if event.action == "cancel":
        try:
            reservations.cancel(conn, ref)
        except NotFound:
            return out | {"status": "unknown order"}
        return out | {"status": "cancelled"}
    known = set(
        conn.execute(select(skus.c.sku).where(skus.c.sku.in_({ln.sku for ln in event.lines})))
        .scalars()
        .all()
    )
    lines = _merged([ln for ln in event.lines if ln.sku in known])
    unknown = sorted({ln.sku for ln in event.lines} - known)
    if unknown:
        log.warning("%s order %s: unknown SKUs %s (not reserved)", channel, ref, unknown)
    changed = _changed(conn, ref, lines)
    if changed:  # the order was edited on the channel: an admin adjusts the reservation
        log.warning("%s order %s changed on the channel: %s", channel, ref, changed)
        return out | {"status": "changed", "note": changed, "unknown_skus": unknown}
    if not lines:
        return out | {"status": "nothing to reserve", "short": [], "unknown_skus": unknown}
    doc = reservations.create(conn, ref, channel, lines, partial=True, reopen=True)
    stamp = now()
    for s in doc.get("short", []):  # this event's new shortfalls: flagged once
        sid = conn.execute(select(skus.c.id).where(skus.c.sku == s["sku"])).scalar_one()
        conn.execute(
            oversells.insert().values(
                channel_id=cid, order_ref=ref, sku_id=sid, qty=s["qty"], short=s["short"], at=stamp
            )
        )
        log.warning(
            "OVERSELL: %s order %s: %s ordered %d, %d not available",
            channel, ref, s["sku"], s["qty"], s["short"],
        )  # fmt: skip
    short = [
        {"sku": ln["sku"], "qty": ln["qty"], "short": ln["short"]}
        for ln in doc["lines"]
        if ln.get("short")
    ]  # what the order is short of now (a redelivery of an oversold order says so too)
    status = "oversold" if short else "reserved"
    return out | {"status": status, "short": short, "unknown_skus": unknown}


def _key(key: str) -> str:
    """The delivery id as stored (at most 200 characters: a longer one by its hash, so two
    long ids that differ only at the end stay two deliveries)."""
    if len(key) <= 200:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _changed(conn: Connection, ref: str, lines: list[LineIn]) -> str:
    """ "" if every line the order already reserves asks the same quantity now, else what
    differs (reservations never change a line's quantity on their own)."""
    had = dict(
        conn.execute(
            select(skus.c.sku, lines_table.c.qty)
            .join(skus, skus.c.id == lines_table.c.sku_id)
            .where(lines_table.c.order_ref == ref)
        ).all()
    )
    diff = [
        f"{ln.sku} {had[ln.sku]} -> {ln.qty}" for ln in lines if had.get(ln.sku, ln.qty) != ln.qty
    ]
    return ", ".join(diff)


def _merged(lines: list[LineIn]) -> list[LineIn]:
    """One line per SKU (a platform may list a SKU twice, e.g. two bundles)."""
    qty: dict[str, int] = {}
    for ln in lines:
        qty[ln.sku] = qty.get(ln.sku, 0) + ln.qty
    return [LineIn(sku, n) for sku, n in qty.items() if n > 0]


def list_oversells(conn: Connection, channel: str, limit: int = 100) -> list[dict[str, Any]]:
    cid = channel_id(conn, channel)
    rows = conn.execute(
        select(oversells, skus.c.sku)
        .join(skus, skus.c.id == oversells.c.sku_id)
        .where(oversells.c.channel_id == cid)
        .order_by(oversells.c.at.desc(), oversells.c.id.desc())
        .limit(limit)
    )
    return [
        {
            "order": r.order_ref,
            "sku": r.sku,
            "qty": int(r.qty),
            "short": int(r.short),
            "at": iso(r.at),
        }
        for r in rows
    ]
