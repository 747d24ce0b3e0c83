"""Reorder alerts: raised when a SKU's available over real locations is ≤ its reorder point,
open while it stays there, closed when it rises above. Evaluated in the booking transaction."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import reorder_alerts, skus
from server.db.sql import iso, now
from server.ledger.stock import totals


def evaluate(conn: Connection, sku_ids: Collection[int]) -> None:
    rows = conn.execute(
        select(skus.c.id, skus.c.reorder_point, skus.c.reorder_qty).where(
            skus.c.id.in_(list(sku_ids)), skus.c.reorder_point.is_not(None)
        )
    ).all()
    if not rows:
        return
    stock = totals(conn, [r.id for r in rows])
    for row in rows:
        on_hand, reserved = stock.get(row.id, (0, 0))
        available = on_hand - reserved
        open_id = conn.execute(
            select(reorder_alerts.c.id).where(
                reorder_alerts.c.sku_id == row.id, reorder_alerts.c.closed_at.is_(None)
            )
        ).scalar()
        alerts = reorder_alerts.update().where(reorder_alerts.c.id == open_id)
        if available <= row.reorder_point:
            if open_id is None:
                conn.execute(
                    reorder_alerts.insert().values(
                        sku_id=row.id,
                        available=available,
                        reorder_point=row.reorder_point,
                        suggested_qty=row.reorder_qty or 0,
                        raised_at=now(),
                    )
                )
            else:
                conn.execute(alerts.values(available=available))
        elif open_id is not None:
            conn.execute(alerts.values(available=available, closed_at=now()))


def open_alerts(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(reorder_alerts, skus.c.sku)
        .join(skus, skus.c.id == reorder_alerts.c.sku_id)
        .where(reorder_alerts.c.closed_at.is_(None))
        .order_by(reorder_alerts.c.raised_at, skus.c.sku)
    ).all()
    return [
        {
            "sku": r.sku,
            "available": int(r.available),
            "reorder_point": r.reorder_point,
            "suggested_qty": r.suggested_qty,
            "raised_at": iso(r.raised_at),
        }
        for r in rows
    ]
