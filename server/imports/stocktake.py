"""Baseline stocktake import: a CSV of counted stock per SKU, bin and lot booked as opening
stock under one stocktake reference (used once).

Each row sets the bin's on hand of that SKU and lot (lot-less when `lot` is empty) to `qty`.
A rise is booked from the virtual `count-adjustment` location into the bin as kind "opening"
carrying the row's `unit_cost` (else the SKU's unit cost): the valuation takes it in as
opening stock at that cost. A fall (the bin already held more) goes back to `count-adjustment`
as kind "stocktake", without a cost: it is no opening stock but a loss the valuation prices
as an issue. Expiry is per lot: a lot keeps one expiry across the file and the ledger; a row
without one inherits the ledger's. The file is checked whole first; any error rejects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import balances, locations, skus, stocktakes
from server.db.sql import insert_ignore, now
from server.errors import Conflict
from server.imports.csvfile import Cells, ImportRejected, Layout, RowError, read
from server.ledger.movements import move
from server.locations.service import COUNT_ADJUSTMENT, Loc, virtual

# every row is a movement (a few ms each): a larger baseline goes in several files and refs
MAX_ROWS = 10_000
LAYOUT = Layout(
    columns=("sku", "loc", "lot", "expiry", "qty", "unit_cost"),
    required=("sku", "loc", "qty"),
    max_rows=MAX_ROWS,
)
OPENING = "opening"  # a rise: opening stock at the row's cost
STOCKTAKE = "stocktake"  # a fall: back to count-adjustment
_CHUNK = 500
_Key = tuple[int, int, str]  # sku id, loc id, lot
_COST = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Line:
    row: int
    sku: str
    loc: str
    lot: str
    expiry: date | None
    qty: int
    unit_cost: Decimal | None


def _line(cells: Cells) -> Line | None:
    sku, loc = cells.identifier("sku"), cells.identifier("loc")
    lot, expiry = cells.lot("lot"), cells.day("expiry")
    qty, cost = cells.whole("qty"), cells.cost("unit_cost")
    if "qty" in cells.cells and not cells.has("qty"):
        cells.error("qty", "missing value", "the qty is empty (write 0 for an empty bin)")
    if sku is None or loc is None or qty is None:
        return None
    return Line(cells.row, sku, loc, lot, expiry, qty, cost)


def parse(data: bytes) -> tuple[list[Line], list[RowError]]:
    """Lines and the errors found in the file alone (repeated lines, one lot two expiries)."""
    table = read(data, LAYOUT)
    errors = list(table.errors)
    lines: list[Line] = []
    keys: dict[tuple[str, str, str], int] = {}
    expiries: dict[tuple[str, str], tuple[date, int]] = {}
    for record in table.records:
        line = _line(Cells(record, errors))
        if line is None:
            continue
        key = (line.sku, line.loc, line.lot)
        if key in keys:
            lot = f" lot {line.lot}" if line.lot else " (no lot)"
            detail = f"{line.sku} at {line.loc}{lot} is also on row {keys[key]}"
            errors.append(RowError(line.row, "", "duplicate line", detail))
        keys.setdefault(key, line.row)
        if line.lot and line.expiry is not None:
            first = expiries.setdefault((line.sku, line.lot), (line.expiry, line.row))
            if first[0] != line.expiry:
                detail = f"lot {line.lot} of {line.sku} expires {first[0]} on row {first[1]}"
                errors.append(RowError(line.row, "expiry", "expiry differs", detail))
        lines.append(line)
    return lines, errors


def _in(conn: Connection, query: Any, column: Any, values: set[Any]) -> list[Any]:
    ordered = sorted(values)
    out: list[Any] = []
    for start in range(0, len(ordered), _CHUNK):
        out += conn.execute(query.where(column.in_(ordered[start : start + _CHUNK]))).all()
    return out


@dataclass(frozen=True, slots=True)
class _Ledger:
    skus: dict[str, tuple[int, Decimal]]  # code -> (id, unit cost)
    locs: dict[str, Loc]  # real locations only
    virtual: set[str]
    expiries: dict[tuple[str, str], date]  # (sku, lot) -> the expiry the ledger knows


def _ledger(conn: Connection, lines: list[Line]) -> _Ledger:
    found = _in(conn, select(skus.c.id, skus.c.sku, skus.c.unit_cost), skus.c.sku,
                {x.sku for x in lines})  # fmt: skip
    sku_map = {r.sku: (int(r.id), Decimal(r.unit_cost)) for r in found}
    rows = _in(conn, select(locations), locations.c.code, {x.loc for x in lines})
    locs = {
        r.code: Loc(r.id, r.code, r.virtual, r.covered, r.negative, r.kind)
        for r in rows
        if not r.virtual
    }
    lots = {x.lot for x in lines if x.lot}
    query = (
        select(skus.c.sku, balances.c.lot, balances.c.expiry)
        .join(skus, skus.c.id == balances.c.sku_id)
        .where(balances.c.lot.in_(sorted(lots)), balances.c.expiry.is_not(None))
    )
    ids = {i for i, _ in sku_map.values()}
    expiries = {(r.sku, r.lot): r.expiry for r in _in(conn, query, balances.c.sku_id, ids)}
    return _Ledger(sku_map, locs, {r.code for r in rows if r.virtual}, expiries)


def _check(lines: list[Line], ledger: _Ledger) -> list[RowError]:
    errors = []
    for x in lines:
        if x.sku not in ledger.skus:
            detail = f"{x.sku!r} is not in the catalog (import the catalog first)"
            errors.append(RowError(x.row, "sku", "unknown sku", detail))
        if x.loc not in ledger.locs:
            detail = f"{x.loc!r} is a virtual location" if x.loc in ledger.virtual else (
                f"no location {x.loc!r}")  # fmt: skip
            errors.append(RowError(x.row, "loc", "unknown location", detail))
        elif (kind := ledger.locs[x.loc].kind) != "bin":
            detail = f"{x.loc!r} is a {kind}: stock is booked at bins"
            errors.append(RowError(x.row, "loc", "unknown location", detail))
        known = ledger.expiries.get((x.sku, x.lot))
        if x.expiry is not None and known is not None and known != x.expiry:
            detail = f"lot {x.lot} of {x.sku} expires {known} in the ledger, not {x.expiry}"
            errors.append(RowError(x.row, "expiry", "expiry differs", detail))
    return errors


def _on_hand(conn: Connection, ledger: _Ledger, lines: list[Line]) -> dict[_Key, int]:
    """On hand per (sku id, loc id, lot) of the file's SKUs at its bins, the balance rows
    locked until commit (each line books only its own key, so these stay its `before`)."""
    loc_ids = {ledger.locs[x.loc].id for x in lines}
    query = select(
        balances.c.sku_id, balances.c.loc_id, balances.c.lot, balances.c.on_hand
    ).with_for_update()
    if len(loc_ids) <= _CHUNK:
        query = query.where(balances.c.loc_id.in_(sorted(loc_ids)))
    found = _in(conn, query, balances.c.sku_id, {ledger.skus[x.sku][0] for x in lines})
    return {(r.sku_id, r.loc_id, r.lot): int(r.on_hand) for r in found if r.loc_id in loc_ids}


def run(conn: Connection, ref: str, data: bytes, dry_run: bool = False) -> dict[str, Any]:
    """Check the file whole, then (unless `dry_run`) book it under stocktake `ref`."""
    if conn.execute(select(stocktakes.c.id).where(stocktakes.c.ref == ref)).first():
        raise Conflict("stocktake exists", f"stocktake {ref!r} was imported already")
    lines, errors = parse(data)
    ledger = _ledger(conn, lines)
    errors += _check(lines, ledger)
    if errors:
        raise ImportRejected(errors, "stocktake", LAYOUT.columns)
    if not dry_run and not insert_ignore(
        conn, stocktakes, {"ref": ref, "created_at": now()}, ["ref"]
    ):
        raise Conflict("stocktake exists", f"stocktake {ref!r} was imported already")
    adjust = virtual(conn, COUNT_ADJUSTMENT)
    on_hand = _on_hand(conn, ledger, lines)
    out, booked = [], 0
    for x in lines:
        sku_id, sku_cost = ledger.skus[x.sku]
        loc = ledger.locs[x.loc]
        expiry = x.expiry or ledger.expiries.get((x.sku, x.lot))
        cost = (x.unit_cost if x.unit_cost is not None else sku_cost).quantize(_COST)
        before = on_hand.get((sku_id, loc.id, x.lot), 0)
        delta = x.qty - before
        if delta and not dry_run:
            if delta > 0:
                move(conn, sku_id=sku_id, src=adjust, dst=loc, qty=delta, kind=OPENING,
                     ref=ref, lot=x.lot, expiry=expiry, unit_cost=cost)  # fmt: skip
            else:
                move(conn, sku_id=sku_id, src=loc, dst=adjust, qty=-delta, kind=STOCKTAKE,
                     ref=ref, lot=x.lot)  # fmt: skip
        booked += 1 if delta else 0
        out.append({
            "row": x.row, "sku": x.sku, "loc": x.loc, "lot": x.lot,
            "expiry": expiry.isoformat() if expiry else None, "qty": x.qty, "before": before,
            "delta": delta, "unit_cost": str(cost) if delta > 0 else None,
        })  # fmt: skip
    return {"ref": ref, "dry_run": dry_run, "rows": len(lines), "movements": booked, "lines": out}
