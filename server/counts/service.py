"""Cycle counts: opening one for a scope, submit (the count moment T1), approval into
count-adjustment movements, recount and cancel; the counters' scans are `server.counts.scans`
(re-exported here as `record` for the ingest, beside the `count-close` scan's `close`).

A count is one reference. `open_count` makes a *scoped* count over bins (a zone or warehouse
stands for every bin below it) and optionally a SKU subset, snapshotting on hand per
(SKU, bin, lot). Scanning a reference no count has starts a *spot* count instead: it covers the
bins and lines it is scanned at, as the ledger's counts always did. Scans in mode `count` add to
their line, per device; a scan at a bin or of a SKU outside a scoped count is refused
`not in count`.

Lifecycle: open → review (submit, or a `count-close` scan: T1) → closed (approve: each line's
variance = counted − expected at T1 is booked between the bin and `count-adjustment`, kind
`count-variance`, at T1). A `count-close` scan approves a spot count at once; a scoped count
waits in review for a clerk. Recount sends chosen (SKU, bin) lines of a count in review back to
counting (their counted figure reset); cancel ends an open or reviewed count, booking nothing.
A scan that reaches the ledger late is still taken while its time is not after its line's T1.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from server.catalog.service import sku_id as find_sku
from server.counts import absorb as _absorb  # noqa: F401  (registers the late-movement hook)
from server.counts import figures
from server.counts.review import (
    CANCELLED,
    CLOSED,
    OPEN,
    REVIEW,
    SCOPED,
    SPOT,
    Cycle,
    document,
    find,
    lines,
    require,
    sheets,
    sku_subset,
)
from server.counts.scans import record as record  # the ingest books count scans here
from server.counts.scans import scan_time
from server.db.schema import (
    balances,
    count_lines,
    count_tallies,
    counts,
    cycle_count_skus,
    cycle_counts,
    locations,
)
from server.db.sql import insert_ignore, now
from server.errors import Conflict, Refused
from server.ledger.movements import Origin, move
from server.locations import service as places
from server.locations.service import COUNT_ADJUSTMENT, Loc

VARIANCE = "count-variance"


def _bins_under(conn: Connection, codes: list[str]) -> list[int]:
    """Ids of the bins at or below each named real location (walking parent_id)."""
    rows = conn.execute(
        select(locations.c.id, locations.c.code, locations.c.parent_id, locations.c.kind).where(
            locations.c.virtual.is_(False)
        )
    ).all()
    by_code = {r.code: r for r in rows}
    children: dict[int, list[Any]] = {}
    for r in rows:
        if r.parent_id is not None:
            children.setdefault(r.parent_id, []).append(r)
    found: dict[int, None] = {}
    for code in codes:
        root = by_code.get(code)
        if root is None:
            raise Refused("unknown location", f"no location {code!r}")
        seen, queue, mine = set(), deque([root]), []
        while queue:
            node = queue.popleft()
            if node.id in seen:
                continue
            seen.add(node.id)
            if node.kind == "bin":
                mine.append(node.id)
            queue.extend(children.get(node.id, []))
        if not mine:
            raise Refused("no bins", f"{code} is a {root.kind} with no bins under it")
        found.update(dict.fromkeys(mine))
    return list(found)


def open_count(
    conn: Connection, ref: str, codes: list[str], sku_codes: list[str] | None, blind: bool
) -> dict[str, Any]:
    """Open a scoped count and snapshot on hand per (SKU, bin, lot) in its scope."""
    bins = _bins_under(conn, codes)
    subset = [find_sku(conn, s) for s in dict.fromkeys(sku_codes or [])]
    at = now()
    values = {"ref": ref, "kind": SCOPED, "blind": blind, "status": OPEN, "opened_at": at}
    if not insert_ignore(conn, cycle_counts, values, ["ref"]):
        raise Conflict("count exists", f"a count {ref!r} exists")
    count = require(conn, ref)
    if subset:
        conn.execute(
            cycle_count_skus.insert(), [{"cycle_id": count.id, "sku_id": s} for s in subset]
        )
    sheet_of = {}
    for bin_id in bins:
        sheet = {"ref": ref, "loc_id": bin_id, "cycle_id": count.id, "status": OPEN}
        sheet_of[bin_id] = conn.execute(
            counts.insert().values(**sheet, opened_at=at).returning(counts.c.id)
        ).scalar_one()
    query = select(balances.c.sku_id, balances.c.loc_id, balances.c.lot, balances.c.on_hand).where(
        balances.c.loc_id.in_(select(counts.c.loc_id).where(counts.c.cycle_id == count.id)),
        balances.c.on_hand != 0,
    )
    if subset:
        query = query.where(balances.c.sku_id.in_(subset))
    snapshot = [
        {
            "count_id": sheet_of[r.loc_id],
            "sku_id": r.sku_id,
            "lot": r.lot,
            "counted": 0,
            "snapshot": int(r.on_hand),
        }
        for r in conn.execute(query)
    ]
    if snapshot:
        conn.execute(count_lines.insert(), snapshot)
    return document(conn, count)


def _submit(conn: Connection, count: Cycle, t1: datetime) -> Cycle:
    """End counting at T1: open lines take it, implied lines are written down with it."""
    c = count_lines.c
    mine = select(counts.c.id).where(counts.c.cycle_id == count.id)
    conn.execute(
        count_lines.update()
        .where(c.count_id.in_(mine), c.counted_at.is_(None))
        .values(counted_at=t1)
    )
    conn.execute(
        cycle_counts.update()
        .where(cycle_counts.c.id == count.id)
        .values(status=REVIEW, counted_at=t1)
    )
    count = require(conn, count.ref)
    implied = [x for x in lines(conn, count) if x.line_id is None]
    if implied:
        conn.execute(
            count_lines.insert(),
            [
                {
                    "count_id": x.sheet_id,
                    "sku_id": x.sku_id,
                    "lot": x.lot,
                    "counted": 0,
                    "snapshot": 0,
                    "counted_at": t1,
                }
                for x in implied
            ],
        )
    return count


def submit(conn: Connection, ref: str) -> dict[str, Any]:
    """End counting now: the count goes to review."""
    count = require(conn, ref, "update")
    if count.status != OPEN:
        raise Conflict("count not open", f"count {ref} is {count.status}")
    return document(conn, _submit(conn, count, now()))


def close(conn: Connection, ref: str, loc: Loc, origin: Origin | None = None) -> list[Any]:
    """A `count-close` scan: submit at the scan's time; a spot count is approved at once."""
    count = find(conn, ref, "update")
    if count is None or count.status != OPEN:
        raise Refused("unknown reference", f"no open count {ref!r}")
    if loc.id not in sheets(conn, count.id):
        raise Refused("not in count", f"{loc.code} is not in count {ref}")
    count = _submit(conn, count, scan_time(origin))
    return _approve(conn, count, origin) if count.kind == SPOT else []


def _approve(conn: Connection, count: Cycle, origin: Origin | None) -> list[dict[str, Any]]:
    """Write the figures down, book every variance, close the count."""
    found = lines(conn, count)
    c = count_lines.c
    for x in found:
        if x.frozen or x.expected is None:
            continue
        written = {"expected": x.expected, "variance": x.counted - x.expected}
        if x.line_id is None:
            conn.execute(
                count_lines.insert().values(
                    count_id=x.sheet_id,
                    sku_id=x.sku_id,
                    lot=x.lot,
                    counted=0,
                    snapshot=0,
                    counted_at=x.counted_at,
                    **written,
                )
            )
        else:
            conn.execute(count_lines.update().where(c.id == x.line_id).values(**written))
    reviewed = figures.review(found)
    adjust = places.virtual(conn, COUNT_ADJUSTMENT)
    bins: dict[int, Loc] = {}
    event_id = origin.event_id if origin is not None else None
    for b in figures.bookings(reviewed):
        if b.loc_id not in bins:
            code = next(r.loc for r in reviewed if r.loc_id == b.loc_id)
            found_loc = places.find(conn, code)
            assert found_loc is not None
            bins[b.loc_id] = found_loc
        src, dst = (adjust, bins[b.loc_id]) if b.gain else (bins[b.loc_id], adjust)
        move(
            conn,
            sku_id=b.sku_id,
            src=src,
            dst=dst,
            qty=b.qty,
            kind=VARIANCE,
            ref=count.ref,
            lot=b.lot,
            origin=Origin(event_id=event_id, at=b.at),
        )
    at = now()
    conn.execute(
        counts.update()
        .where(counts.c.cycle_id == count.id, counts.c.status == OPEN)
        .values(status=CLOSED, closed_at=at)
    )
    conn.execute(
        cycle_counts.update()
        .where(cycle_counts.c.id == count.id)
        .values(status=CLOSED, closed_at=at)
    )
    return [
        {"sku": r.sku, "loc": r.loc, "lot": r.lot, "variance": r.variance}
        for r in reviewed
        if r.variance and not r.frozen
    ]


def approve(conn: Connection, ref: str, origin: Origin | None = None) -> dict[str, Any]:
    """Book the variance of a count in review and close it."""
    count = require(conn, ref, "update")
    if count.status != REVIEW:
        hint = ": submit it first" if count.status == OPEN else ""
        raise Conflict("count not in review", f"count {ref} is {count.status}{hint}")
    booked = _approve(conn, count, origin)
    return {"ref": ref, "booked": booked, "count": get(conn, ref)}


def close_all(conn: Connection, ref: str) -> dict[str, Any]:
    """Submit (if still open) and approve in one step."""
    count = require(conn, ref, "update")
    if count.status == OPEN:
        count = _submit(conn, count, now())
    elif count.status != REVIEW:
        raise Conflict("count not open", f"count {ref} is {count.status}")
    booked = _approve(conn, count, None)
    return {"ref": ref, "booked": booked, "count": get(conn, ref)}


def recount(conn: Connection, ref: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Send (SKU, bin) lines of a count in review back to counting, their counts reset."""
    count = require(conn, ref, "update")
    if count.status != REVIEW:
        raise Conflict("count not in review", f"count {ref} is {count.status}")
    bins = sheets(conn, count.id)
    subset = sku_subset(conn, count.id)
    at = now()
    c = count_lines.c
    for sku, code in pairs:
        sid = find_sku(conn, sku)
        loc = places.find(conn, code)
        if loc is None or loc.id not in bins:
            raise Refused("not in count", f"{code} is not in count {ref}")
        if subset is not None and sid not in subset:
            raise Refused("not in count", f"{sku} is not in count {ref}")
        sheet_id = bins[loc.id][0]
        if conn.execute(select(counts.c.status).where(counts.c.id == sheet_id)).scalar() != OPEN:
            raise Conflict("count not in review", f"{code} was booked before: no recount")
        ids = list(
            conn.execute(select(c.id).where(c.count_id == sheet_id, c.sku_id == sid)).scalars()
        )
        if not ids:
            values = {"count_id": sheet_id, "sku_id": sid, "lot": "", "counted": 0}
            conn.execute(count_lines.insert().values(**values, snapshot=0, reset_at=at))
            continue
        conn.execute(count_tallies.delete().where(count_tallies.c.line_id.in_(ids)))
        conn.execute(
            count_lines.update()
            .where(c.id.in_(ids))
            .values(counted=0, counted_at=None, expected=None, variance=None, reset_at=at)
        )
    conn.execute(cycle_counts.update().where(cycle_counts.c.id == count.id).values(status=OPEN))
    return get(conn, ref)


def cancel(conn: Connection, ref: str) -> dict[str, Any]:
    """End an open or reviewed count without booking anything."""
    count = require(conn, ref, "update")
    if count.status not in (OPEN, REVIEW):
        raise Conflict("count not open", f"count {ref} is {count.status}")
    at = now()
    conn.execute(
        counts.update()
        .where(counts.c.cycle_id == count.id, counts.c.status == OPEN)
        .values(status=CANCELLED, closed_at=at)
    )
    conn.execute(
        cycle_counts.update()
        .where(cycle_counts.c.id == count.id)
        .values(status=CANCELLED, closed_at=at)
    )
    return get(conn, ref)


def get(conn: Connection, ref: str) -> dict[str, Any]:
    return document(conn, require(conn, ref))
