"""Sell-through per SKU: units sold (picks − returns) ÷ (opening stock + received) × 100."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import aliased

from server.db.schema import locations, movements, skus


def sell_through(conn: Connection) -> list[dict[str, Any]]:
    m = movements.c
    src, dst = aliased(locations), aliased(locations)
    query = (
        select(m.sku_id, m.kind, src.c.virtual, dst.c.virtual, func.sum(m.qty))
        .join(src, src.c.id == m.from_loc_id)
        .join(dst, dst.c.id == m.to_loc_id)
        .where(m.kind.in_(["stocktake", "receive", "pick", "return"]))
        .group_by(m.sku_id, m.kind, src.c.virtual, dst.c.virtual)
    )
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for sku_id, kind, src_virtual, dst_virtual, qty in conn.execute(query):
        # stocktake moves both ways (count-adjustment <-> bin): net into real locations
        sign = -1 if kind == "stocktake" and not src_virtual and dst_virtual else 1
        sums[sku_id][kind] += sign * int(qty)
    names = dict(conn.execute(select(skus.c.id, skus.c.sku)).all())
    report = []
    for sku_id, s in sorted(sums.items(), key=lambda kv: names[kv[0]]):
        sold = s["pick"] - s["return"]
        base = s["stocktake"] + s["receive"]
        pct = round(sold / base * 100, 1) if base > 0 else None
        report.append(
            {
                "sku": names[sku_id],
                "sold": sold,
                "opening": s["stocktake"],
                "received": s["receive"],
                "sell_through_pct": pct,
            }
        )
    return report
