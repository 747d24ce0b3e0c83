"""Reorder rules and alerts, evaluated in the transaction of every booking that changes stock.

Rules: the SKU-wide rule (skus.reorder_point / reorder_qty) watches what is available over all
real locations; a location rule (reorder_rules) watches one real location and everything under
it. available = on hand − reserved − safety stock (server.reservations.availability: the
SKU-wide rule also deducts the SKU-wide safety stock, a location rule the safety stock of the
locations it covers). A rule is breached when available ≤ its point.

Alerts: at most one open alert per (SKU, rule). Raising one drafts a purchase order
`RO-<sku>-<n>` for the SKU's supplier with the rule's quantity at the SKU's unit cost, expected
today + the supplier's lead time (no supplier or no quantity: no draft, a note says why).
An open alert follows the available quantity and closes as
  `received`      once its purchase order has received the SKU (any quantity),
  `recovered`     when available rises above the point,
  `rule removed`  when its rule is gone;
a draft it made that was never submitted is cancelled when it closes as recovered or rule
removed. A rule is not raised again while an earlier alert's order is still pending (draft,
open or partially received): the stock is on its way.

Evaluation locks the SKU rows it watches (FOR NO KEY UPDATE on PostgreSQL, SQLite writes are
serial), so two bookings of one SKU never open two alerts or two drafts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, or_, select

from server.catalog.service import sku_id
from server.db.schema import (
    locations,
    po_lines,
    purchase_orders,
    reorder_alerts,
    reorder_rules,
    skus,
)
from server.db.sql import iso, now
from server.locations import service as location_service
from server.purchasing import service as purchasing
from server.reservations.availability import by_location, total
from server.suppliers.service import expected_on

_REF_CHARS = 64
NO_SUPPLIER = "no supplier: set the SKU's supplier to get a draft purchase order"
NO_QTY = "no reorder quantity: no draft purchase order"


@dataclass(frozen=True, slots=True)
class Rule:
    sku_id: int
    sku: str
    loc_id: int | None  # None: the SKU-wide rule
    loc: str | None
    point: int
    qty: int | None


def _watched(conn: Connection, ids: list[int]) -> list[Any]:
    """The SKU rows among `ids` that have a rule or an open alert, locked in id order."""
    has_rule = exists().where(reorder_rules.c.sku_id == skus.c.id)
    has_alert = exists().where(
        reorder_alerts.c.sku_id == skus.c.id, reorder_alerts.c.closed_at.is_(None)
    )
    query = (
        select(skus.c.id, skus.c.sku, skus.c.reorder_point, skus.c.reorder_qty)
        .add_columns(skus.c.supplier_id, skus.c.unit_cost)
        .where(skus.c.id.in_(ids), or_(skus.c.reorder_point.is_not(None), has_rule, has_alert))
        .order_by(skus.c.id)
        .with_for_update(key_share=True)
    )
    return list(conn.execute(query))


def _rules(conn: Connection, rows: list[Any]) -> list[Rule]:
    out = [
        Rule(r.id, r.sku, None, None, int(r.reorder_point), r.reorder_qty)
        for r in rows
        if r.reorder_point is not None
    ]
    names = {r.id: r.sku for r in rows}
    found = conn.execute(
        select(reorder_rules, locations.c.code)
        .join(locations, locations.c.id == reorder_rules.c.loc_id)
        .where(reorder_rules.c.sku_id.in_(list(names)))
        .order_by(reorder_rules.c.sku_id, locations.c.code)
    )
    out += [
        Rule(r.sku_id, names[r.sku_id], r.loc_id, r.code, int(r.point), int(r.qty)) for r in found
    ]
    return out


def _available(conn: Connection, rule: Rule) -> int:
    """What the rule watches: available over all real locations, or at the rule's location
    and every location under it."""
    if rule.loc_id is None:
        return total(conn, rule.sku_id)
    tree = select(locations.c.id).where(locations.c.id == rule.loc_id).cte("under", recursive=True)
    tree = tree.union(select(locations.c.id).where(locations.c.parent_id == tree.c.id))
    codes = conn.execute(select(locations.c.code).where(locations.c.id.in_(select(tree.c.id))))
    return sum(at.available for at in by_location(conn, [rule.sku_id], list(codes.scalars())))


def _close(conn: Connection, alert: Any, reason: str, available: int | None = None) -> None:
    values: dict[str, Any] = {"closed_at": now(), "closed_reason": reason}
    if available is not None:
        values["available"] = available
    conn.execute(reorder_alerts.update().where(reorder_alerts.c.id == alert.id).values(**values))
    if alert.po_id is not None and reason != "received":
        status = conn.execute(
            select(purchase_orders.c.status).where(purchase_orders.c.id == alert.po_id)
        ).scalar()
        if status == "draft":
            note = f"withdrawn: reorder alert closed ({reason})"
            purchasing.set_status(conn, alert.po_id, "cancelled", note)


def _arrived(conn: Connection, alert: Any) -> bool:
    """Whether the alert's purchase order has received the alert's SKU."""
    if alert.po_id is None:
        return False
    received = conn.execute(
        select(po_lines.c.qty_received).where(
            po_lines.c.po_id == alert.po_id, po_lines.c.sku_id == alert.sku_id
        )
    ).scalar()
    return bool(received)


def _pending_order(conn: Connection, rule: Rule) -> bool:
    """An earlier alert of this rule whose purchase order is still to arrive."""
    same_rule = (
        reorder_alerts.c.loc_id.is_(None)
        if rule.loc_id is None
        else reorder_alerts.c.loc_id == rule.loc_id
    )
    query = (
        select(reorder_alerts.c.id)
        .join(purchase_orders, purchase_orders.c.id == reorder_alerts.c.po_id)
        .where(
            reorder_alerts.c.sku_id == rule.sku_id,
            same_rule,
            purchase_orders.c.status.in_(purchasing.PENDING),
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def _next_ref(conn: Connection, sku: str) -> str:
    n = 1
    while True:
        suffix = f"-{n}"
        ref = f"RO-{sku[: _REF_CHARS - 3 - len(suffix)]}{suffix}"
        taken = select(purchase_orders.c.id).where(purchase_orders.c.ref == ref)
        if conn.execute(taken).first() is None:
            return ref
        n += 1


def _raise(conn: Connection, rule: Rule, sku: Any, available: int) -> None:
    po_id, note = None, ""
    if sku.supplier_id is None:
        note = NO_SUPPLIER
    elif not rule.qty:
        note = NO_QTY
    else:
        where = rule.loc or "all locations"
        po_id = purchasing.insert(
            conn,
            _next_ref(conn, rule.sku),
            [(rule.sku_id, rule.qty, sku.unit_cost)],
            sku.supplier_id,
            expected_on(conn, sku.supplier_id),
            note=f"reorder: {rule.sku} at {where} is {available}, point {rule.point}",
        )
    conn.execute(
        reorder_alerts.insert().values(
            sku_id=rule.sku_id,
            loc_id=rule.loc_id,
            available=available,
            reorder_point=rule.point,
            suggested_qty=rule.qty or 0,
            raised_at=now(),
            po_id=po_id,
            note=note,
        )
    )


def evaluate(conn: Connection, sku_ids: Collection[int]) -> None:
    """Raise, follow and close the alerts of these SKUs' rules (before commit)."""
    rows = _watched(conn, sorted(set(sku_ids)))
    if not rows:
        return
    by_id = {r.id: r for r in rows}
    rules = _rules(conn, rows)
    alerts = conn.execute(
        select(reorder_alerts).where(
            reorder_alerts.c.sku_id.in_(list(by_id)), reorder_alerts.c.closed_at.is_(None)
        )
    ).all()
    keys = {(r.sku_id, r.loc_id) for r in rules}
    open_by_rule: dict[tuple[int, int | None], Any] = {}
    for alert in alerts:
        if (alert.sku_id, alert.loc_id) not in keys:
            _close(conn, alert, "rule removed")
        else:
            open_by_rule[(alert.sku_id, alert.loc_id)] = alert
    for rule in rules:
        available = _available(conn, rule)
        current = open_by_rule.get((rule.sku_id, rule.loc_id))
        if current is not None and _arrived(conn, current):
            _close(conn, current, "received", available)
            current = None  # raised again below only once that order is no longer pending
        if current is not None and available > rule.point:
            _close(conn, current, "recovered", available)
        elif current is not None:
            conn.execute(
                reorder_alerts.update()
                .where(reorder_alerts.c.id == current.id)
                .values(available=available, reorder_point=rule.point)
            )
        elif available <= rule.point and not _pending_order(conn, rule):
            _raise(conn, rule, by_id[rule.sku_id], available)


def set_rule(
    conn: Connection, sku: str, point: int | None, qty: int | None, loc: str | None = None
) -> dict[str, Any]:
    """Set (or with point None remove) the SKU-wide rule, or the rule at `loc`; evaluates the
    SKU at once. Returns the SKU's rules and open alerts."""
    sid = sku_id(conn, sku)
    if loc is None:
        values = {"reorder_point": point, "reorder_qty": qty if point is not None else None}
        conn.execute(skus.update().where(skus.c.id == sid).values(**values))
    else:
        loc_id = location_service.real(conn, loc).id
        key = and_(reorder_rules.c.sku_id == sid, reorder_rules.c.loc_id == loc_id)
        conn.execute(reorder_rules.delete().where(key))
        if point is not None:
            conn.execute(
                reorder_rules.insert().values(sku_id=sid, loc_id=loc_id, point=point, qty=qty or 0)
            )
    evaluate(conn, [sid])
    return rules_of(conn, sku)


def rules_of(conn: Connection, sku: str) -> dict[str, Any]:
    """The SKU's rules (SKU-wide first, then by location) and its open alerts."""
    sid = sku_id(conn, sku)
    row = conn.execute(
        select(skus.c.reorder_point, skus.c.reorder_qty).where(skus.c.id == sid)
    ).one()
    rules: list[dict[str, Any]] = []
    if row.reorder_point is not None:
        rules.append({"loc": None, "point": row.reorder_point, "qty": row.reorder_qty})
    found = conn.execute(
        select(reorder_rules.c.point, reorder_rules.c.qty, locations.c.code)
        .join(locations, locations.c.id == reorder_rules.c.loc_id)
        .where(reorder_rules.c.sku_id == sid)
        .order_by(locations.c.code)
    )
    rules += [{"loc": r.code, "point": r.point, "qty": r.qty or None} for r in found]
    return {"sku": sku, "rules": rules, "alerts": alerts(conn, sku=sku)}


def alerts(
    conn: Connection, include_closed: bool = False, sku: str | None = None
) -> list[dict[str, Any]]:
    """Open alerts (all with include_closed), oldest first, with their purchase order."""
    query = (
        select(
            reorder_alerts,
            skus.c.sku,
            locations.c.code.label("loc"),
            purchase_orders.c.ref.label("po"),
            purchase_orders.c.status.label("po_status"),
        )
        .join(skus, skus.c.id == reorder_alerts.c.sku_id)
        .outerjoin(locations, locations.c.id == reorder_alerts.c.loc_id)
        .outerjoin(purchase_orders, purchase_orders.c.id == reorder_alerts.c.po_id)
        .order_by(reorder_alerts.c.raised_at, reorder_alerts.c.id)
    )
    if not include_closed:
        query = query.where(reorder_alerts.c.closed_at.is_(None))
    if sku is not None:
        query = query.where(skus.c.sku == sku)
    return [
        {
            "id": r.id,
            "sku": r.sku,
            "loc": r.loc,
            "available": int(r.available),
            "reorder_point": r.reorder_point,
            "suggested_qty": r.suggested_qty,
            "raised_at": iso(r.raised_at),
            "closed_at": iso(r.closed_at),
            "closed_reason": r.closed_reason or None,
            "po": r.po,
            "po_status": r.po_status,
            "note": r.note,
        }
        for r in conn.execute(query)
    ]
