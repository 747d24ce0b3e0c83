"""A count is a snapshot in time (Square's inventory model): a movement that happened before
an approved count's moment T1 at a counted bin, but is booked only after the approval (a scan
that sat in a scanner's outbox, a backdated adjustment), must not change what was counted from
the count onward.

The `after_move` hook lets it book as usual and, in the same transaction, books a compensating
`count-absorbed` movement between the bin and `count-adjustment` (same SKU, lot, quantity and
event time, ref = the count, reason naming the absorbed movement), so on hand stays what was
counted and the journal shows both. It never reacts to its own `count-absorbed` movements; a
`count-variance` of an older count approved after a newer one is absorbed like any other late
movement (the newer count's figure stands).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from server.counts.review import CLOSED, SPOT, sku_subset, utc
from server.db.schema import count_lines, counts, cycle_counts
from server.ledger.movements import Booked, Origin, after_move, move
from server.locations.service import COUNT_ADJUSTMENT, virtual

ABSORBED = "count-absorbed"


def absorbing(conn: Connection, booked: Booked, loc_id: int) -> str | None:
    """The ref of the newest approved count at this bin whose T1 for the movement's SKU and
    lot is after the movement's event time, or None."""
    when = utc(booked.event_at)
    c = cycle_counts.c
    candidates = conn.execute(
        select(c.id, c.ref, c.kind, c.counted_at, counts.c.id.label("sheet_id"))
        .join(counts, counts.c.cycle_id == c.id)
        .where(
            counts.c.loc_id == loc_id,
            counts.c.status == CLOSED,
            c.status == CLOSED,
            c.counted_at > when,
        )
        .order_by(c.counted_at.desc(), c.id.desc())
    ).all()
    for row in candidates:
        subset = sku_subset(conn, row.id)
        if subset is not None and booked.sku_id not in subset:
            continue
        got = conn.execute(
            select(count_lines.c.lot, count_lines.c.counted_at).where(
                count_lines.c.count_id == row.sheet_id, count_lines.c.sku_id == booked.sku_id
            )
        ).all()
        mine = [g for g in got if g.lot == booked.lot]
        if row.kind == SPOT and not mine and not any(g.lot == "" for g in got):
            continue  # a spot count covers only what it was scanned for
        times = [utc(g.counted_at) for g in (mine or got) if g.counted_at is not None]
        if max(times, default=utc(row.counted_at)) > when:
            return str(row.ref)
    return None


@after_move
def absorb_late(conn: Connection, booked: Booked) -> None:
    """Book the compensating movement for each counted bin the movement touched late."""
    if booked.kind == ABSORBED:
        return
    for side, arrived in ((booked.src, False), (booked.dst, True)):
        if side.virtual:
            continue
        ref = absorbing(conn, booked, side.id)
        if ref is None:
            continue
        adjust = virtual(conn, COUNT_ADJUSTMENT)
        src, dst = (side, adjust) if arrived else (adjust, side)
        move(
            conn,
            sku_id=booked.sku_id,
            src=src,
            dst=dst,
            qty=booked.qty,
            kind=ABSORBED,
            ref=ref,
            lot=booked.lot,
            origin=Origin(at=utc(booked.event_at)),
            reason=f"absorbs movement {booked.id}",
        )
