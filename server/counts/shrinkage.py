"""Shrinkage: stock that vanished without a sale, per SKU over a period of event time.

Counted: count losses (`count-variance` and `count-absorbed` movements out of a bin) net of
count gains (the same kinds into a bin), and adjustment losses (any other movement into
`inventory-loss`, such as damaged, expired, theft, lost, or scrapping quarantined stock) net of
adjustment gains (movements out of `inventory-loss`: found, corrections). Counts approved before
count-adjustment existed booked their variance against inventory-loss: by their kind they are
count figures. Stocktakes (opening balances) are not shrinkage. Value = qty × the SKU's unit
cost. A positive figure is stock lost.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from server.counts.absorb import ABSORBED
from server.counts.review import utc
from server.counts.service import VARIANCE
from server.db.schema import movements, skus
from server.db.sql import iso
from server.errors import Refused
from server.locations.service import COUNT_ADJUSTMENT, INVENTORY_LOSS, virtual

COUNT_KINDS = (VARIANCE, ABSORBED)
COLUMNS = (
    "sku",
    "name",
    "unit_cost",
    "count_loss",
    "count_gain",
    "adjustment_loss",
    "adjustment_gain",
    "shrinkage_qty",
    "shrinkage_value",
)
_CENTS = Decimal("0.01")
_COST = Decimal("0.0001")


def period(
    since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The report's [from, to) in UTC (a time without offset is UTC); 422 `bad period`."""
    start = utc(since) if since is not None else None
    end = utc(until) if until is not None else None
    if start is not None and end is not None and start > end:
        raise Refused("bad period", f"from {iso(start)} is after to {iso(end)}")
    return start, end


def report(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Per SKU and in total, for event times in [since, until)."""
    loss = virtual(conn, INVENTORY_LOSS).id
    adjust = virtual(conn, COUNT_ADJUSTMENT).id
    m = movements.c
    counted = and_(m.kind.in_(COUNT_KINDS), or_(m.from_loc_id == adjust, m.to_loc_id == adjust))
    written_off = or_(m.from_loc_id == loss, m.to_loc_id == loss)
    query = (
        select(m.sku_id, m.kind, m.from_loc_id, m.to_loc_id, func.sum(m.qty).label("qty"))
        .where(or_(counted, written_off))
        .where(~and_(m.from_loc_id.in_([loss, adjust]), m.to_loc_id.in_([loss, adjust])))
        .group_by(m.sku_id, m.kind, m.from_loc_id, m.to_loc_id)
    )
    if since is not None:
        query = query.where(m.event_at >= since)
    if until is not None:
        query = query.where(m.event_at < until)
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in conn.execute(query):
        into_virtual = row.to_loc_id in (loss, adjust)
        what = "count" if row.kind in COUNT_KINDS else "adjustment"
        sums[row.sku_id][f"{what}_{'loss' if into_virtual else 'gain'}"] += int(row.qty)
    names = {
        r.id: r
        for r in conn.execute(
            select(skus.c.id, skus.c.sku, skus.c.name, skus.c.unit_cost).where(
                skus.c.id.in_(sorted(sums))
            )
        )
    }
    lines = []
    for sku_id, s in sums.items():
        item = names[sku_id]
        qty = s["count_loss"] - s["count_gain"] + s["adjustment_loss"] - s["adjustment_gain"]
        cost = Decimal(item.unit_cost)
        lines.append(
            {
                "sku": item.sku,
                "name": item.name,
                "unit_cost": str(cost.quantize(_COST)),
                "count_loss": s["count_loss"],
                "count_gain": s["count_gain"],
                "adjustment_loss": s["adjustment_loss"],
                "adjustment_gain": s["adjustment_gain"],
                "shrinkage_qty": qty,
                "shrinkage_value": str((qty * cost).quantize(_CENTS)),
            }
        )
    lines.sort(key=lambda line: line["sku"])
    total_value = sum((Decimal(line["shrinkage_value"]) for line in lines), Decimal(0))
    return {
        "from": iso(since),
        "to": iso(until),
        "skus": lines,
        "total": {
            "shrinkage_qty": sum(line["shrinkage_qty"] for line in lines),
            "shrinkage_value": str(total_value.quantize(_CENTS)),
        },
    }


def to_csv(doc: dict[str, Any]) -> str:
    """The report as CSV: a header, one row per SKU, a TOTAL row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in doc["skus"]:
        writer.writerow([line[c] for c in COLUMNS])
    total = doc["total"]
    writer.writerow(
        ["TOTAL", "", "", "", "", "", "", total["shrinkage_qty"], total["shrinkage_value"]]
    )
    return out.getvalue()
