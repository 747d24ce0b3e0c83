"""Reading movements: the journal with its filters, and rows by id (a booking's answer).

Each row shows the three clocks a movement keeps (device, gateway, booking) and the event time
the ledger settled on, the clock flag when the device's time was not trusted, and the flags
(`negative stock`) a booking raised.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, or_, select

from server.db.schema import locations, movements, skus
from server.db.sql import iso

_src = locations.alias("src")
_dst = locations.alias("dst")
_COST_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Filter:
    sku: str | None = None
    loc: str | None = None  # either end of the movement
    kind: str | None = None
    ref: str | None = None
    flagged: bool | None = None  # True: a clock or booking flag; False: neither
    since: datetime | None = None  # event_at >= since
    until: datetime | None = None  # event_at < until
    limit: int = 100


def _query() -> Select[Any]:
    m = movements.c
    return (
        select(
            m.id,
            skus.c.sku,
            _src.c.code.label("src"),
            _dst.c.code.label("dst"),
            m.qty,
            m.lot,
            m.expiry,
            m.serial,
            m.kind,
            m.ref,
            m.reason,
            m.unit_cost,
            m.event_id,
            m.device_ts,
            m.gateway_ts,
            m.booked_at,
            m.event_at,
            m.clock,
            m.flags,
        )
        .join(skus, skus.c.id == m.sku_id)
        .join(_src, _src.c.id == m.from_loc_id)
        .join(_dst, _dst.c.id == m.to_loc_id)
    )


def _ms(value: int | None) -> str | None:
    """A millisecond clock reading as ISO time; None when absent or beyond what a date holds."""
    if value is None:
        return None
    try:
        return iso(datetime.fromtimestamp(value / 1000, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _cost(value: Any) -> str | None:
    return None if value is None else str(Decimal(value).quantize(_COST_PLACES))


def render(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "sku": row.sku,
        "from": row.src,
        "to": row.dst,
        "qty": int(row.qty),
        "lot": row.lot,
        "expiry": row.expiry.isoformat() if row.expiry else None,
        "serial": row.serial,
        "kind": row.kind,
        "ref": row.ref,
        "reason": row.reason,
        "unit_cost": _cost(row.unit_cost),
        "event_id": row.event_id,
        "device_ts": row.device_ts,
        "device_at": _ms(row.device_ts),
        "gateway_ts": row.gateway_ts,
        "gateway_at": _ms(row.gateway_ts),
        "booked_at": iso(row.booked_at),
        "event_at": iso(row.event_at),
        "clock": row.clock,
        "flags": row.flags,
    }


def by_ids(conn: Connection, ids: Collection[int]) -> list[dict[str, Any]]:
    query = _query().where(movements.c.id.in_(list(ids))).order_by(movements.c.id)
    return [render(r) for r in conn.execute(query)]


def search(conn: Connection, f: Filter) -> list[dict[str, Any]]:
    """Movements matching every filter given, newest event first."""
    m = movements.c
    query = _query()
    if f.sku is not None:
        query = query.where(skus.c.sku == f.sku)
    if f.loc is not None:
        query = query.where(or_(_src.c.code == f.loc, _dst.c.code == f.loc))
    if f.kind is not None:
        query = query.where(m.kind == f.kind)
    if f.ref is not None:
        query = query.where(m.ref == f.ref)
    if f.flagged is not None:
        raised = or_(m.clock != "", m.flags != "")
        query = query.where(raised if f.flagged else ~raised)
    if f.since is not None:
        query = query.where(m.event_at >= utc(f.since))
    if f.until is not None:
        query = query.where(m.event_at < utc(f.until))
    query = query.order_by(m.event_at.desc(), m.id.desc()).limit(f.limit)
    return [render(r) for r in conn.execute(query)]
