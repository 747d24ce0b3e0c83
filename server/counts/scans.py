"""Counters' scans in mode `count`: which count, sheet and line a scan adds to, and whether
its time still belongs to the count.

A reference no count has starts a spot count; a spot count gains a sheet at each bin it is
scanned at, a scoped count refuses bins and SKUs outside its scope (`not in count`). Lines are
per (SKU, bin, lot) and keep what each device counted. A line takes scans timed up to its T1
(a scanner's buffered scans count when they arrive after the submit) and, during a recount,
from the recount's start; other scans are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from server.counts.review import (
    CANCELLED,
    CLOSED,
    OPEN,
    REVIEW,
    SPOT,
    Cycle,
    find,
    maybe_utc,
    require,
    sku_subset,
)
from server.db.schema import balances, count_lines, count_tallies, counts, cycle_counts, skus
from server.db.sql import insert_ignore, iso, now, upsert
from server.errors import Refused
from server.ledger.clock import event_time
from server.ledger.movements import Origin
from server.locations.service import Loc


def scan_time(origin: Origin | None) -> datetime:
    """When a scan happened, as the ledger trusts it (ledger.clock)."""
    origin = origin or Origin()
    return event_time(origin.device_ts, origin.gateway_ts, now()).at


def _sku_name(conn: Connection, sku_id: int) -> str:
    return str(conn.execute(select(skus.c.sku).where(skus.c.id == sku_id)).scalar_one())


def _start_spot(conn: Connection, ref: str) -> Cycle:
    values = {"ref": ref, "kind": SPOT, "blind": False, "status": OPEN, "opened_at": now()}
    insert_ignore(conn, cycle_counts, values, ["ref"])
    return require(conn, ref, "share")


def _sheet(conn: Connection, count: Cycle, loc: Loc) -> int:
    """The count's sheet at this bin; a spot count gains one, a scoped count refuses."""
    key = counts.c.ref == count.ref, counts.c.loc_id == loc.id
    if count.kind == SPOT:
        values = {"ref": count.ref, "loc_id": loc.id, "cycle_id": count.id, "status": OPEN}
        insert_ignore(conn, counts, {**values, "opened_at": now()}, ["ref", "loc_id"])
    row = conn.execute(select(counts.c.id, counts.c.cycle_id, counts.c.status).where(*key)).first()
    if row is None or row.cycle_id != count.id:
        raise Refused("not in count", f"{loc.code} is not in count {count.ref}")
    if row.status != OPEN:  # booked before cycle counts existed
        raise Refused("unknown reference", f"count {count.ref} at {loc.code} is {row.status}")
    return int(row.id)


def record(
    conn: Connection,
    ref: str,
    loc: Loc,
    sku_id: int,
    lot: str,
    qty: int,
    dev: str = "",
    origin: Origin | None = None,
) -> None:
    """Add one counter's scan of qty to the count line (ref, bin, SKU, lot)."""
    if not ref:
        raise Refused("unknown reference", "a count needs a reference (SW:REF)")
    at = scan_time(origin)
    count = find(conn, ref, "share") or _start_spot(conn, ref)
    if count.status in (CLOSED, CANCELLED):
        raise Refused("unknown reference", f"count {ref} is {count.status}")
    sheet_id = _sheet(conn, count, loc)
    subset = sku_subset(conn, count.id)
    if subset is not None and sku_id not in subset:
        raise Refused("not in count", f"{_sku_name(conn, sku_id)} is not in count {ref}")
    c = count_lines.c
    group = conn.execute(
        select(c.id, c.lot, c.counted_at, c.reset_at).where(
            c.count_id == sheet_id, c.sku_id == sku_id
        )
    ).all()
    line = next((g for g in group if g.lot == lot), None)
    t1, reset = _window(count, line, group)

    def what() -> str:  # named only when refusing
        return f"{_sku_name(conn, sku_id)} at {loc.code}"

    if t1 is None and reset is None and line is None and count.counted_at is not None:
        raise Refused("not in count", f"{what()} is not being recounted in {ref}")
    if reset is not None and at < reset:
        raise Refused("not in count", f"a scan of {iso(at)} predates the recount of {what()}")
    if t1 is not None and at > t1:
        if count.status == REVIEW:
            raise Refused("unknown reference", f"count {ref} ended at {iso(t1)}: in review")
        raise Refused("not in count", f"{what()} was counted at {iso(t1)}, not being recounted")
    if line is None:
        line_id = _new_line(conn, count, sheet_id, loc, sku_id, lot, t1, reset)
    else:
        line_id = line.id
    conn.execute(count_lines.update().where(c.id == line_id).values(counted=c.counted + qty))
    tally = {"line_id": line_id, "dev": dev, "qty": qty}
    upsert(conn, count_tallies, tally, ["line_id", "dev"], {"qty": count_tallies.c.qty + qty})


def _window(
    count: Cycle, line: Any, group: Sequence[Any]
) -> tuple[datetime | None, datetime | None]:
    """(T1, recount start) bounding the scan times a line takes: a line still being counted
    has no T1; a new line of a count in review takes the count's T1, one in a recount round
    the round's start (both None when the SKU at this bin is not being recounted)."""
    if line is not None:
        return maybe_utc(line.counted_at), maybe_utc(line.reset_at)
    if count.counted_at is None:
        return None, None
    if count.status == REVIEW:
        return count.counted_at, None
    pending = [g for g in group if g.counted_at is None]
    return None, maybe_utc(pending[0].reset_at) if pending else None


def _new_line(
    conn: Connection,
    count: Cycle,
    sheet_id: int,
    loc: Loc,
    sku_id: int,
    lot: str,
    t1: datetime | None,
    reset: datetime | None,
) -> int:
    """A line the count had none for: a spot count snapshots on hand now (and, for a lot-less
    scan, the SKU's lots at the bin too); a scoped count had none of it at opening (0)."""
    held: dict[str, int] = {}
    if count.kind == SPOT:
        query = select(balances.c.lot, balances.c.on_hand).where(
            balances.c.sku_id == sku_id, balances.c.loc_id == loc.id
        )
        held = {r.lot: int(r.on_hand) for r in conn.execute(query)}
    extra = {"counted_at": t1, "reset_at": reset}
    line = {"count_id": sheet_id, "sku_id": sku_id, "counted": 0, **extra}
    keys = ["count_id", "sku_id", "lot"]
    for other, qty in held.items():
        if lot == "" and other != "" and qty:
            insert_ignore(conn, count_lines, {**line, "lot": other, "snapshot": qty}, keys)
    insert_ignore(conn, count_lines, {**line, "lot": lot, "snapshot": held.get(lot, 0)}, keys)
    c = count_lines.c
    query = select(c.id).where(c.count_id == sheet_id, c.sku_id == sku_id, c.lot == lot)
    return int(conn.execute(query).scalar_one())
