"""Reading a cycle count: its lines with the quantity expected at the count moment, and the
review document `GET /v1/counts/{ref}` answers.

Expected at T1 = on hand now − the net of the movements at that bin, SKU and lot whose event
time is after T1 (so a pick scanned while the count was running, or one whose scan arrives
after it, lands on the right side of the count). T1 is per line: the submit that ended its
counting (a recount moves it); while a line is still being counted, "now" stands in and the
figures are provisional. Besides its stored lines a scoped count covers every other
(SKU, lot) with stock at its bins (implied lines, counted 0); a spot count covers the lines it
was scanned for, and all lots of a SKU whose lot-less label was scanned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, select

from server.counts import figures
from server.counts.figures import Line
from server.db.schema import (
    balances,
    count_lines,
    count_tallies,
    counts,
    cycle_count_skus,
    cycle_counts,
    locations,
    movements,
    skus,
)
from server.db.sql import iso, now
from server.errors import NotFound

OPEN, REVIEW, CLOSED, CANCELLED = "open", "review", "closed", "cancelled"
SCOPED, SPOT = "scoped", "spot"
Key = tuple[int, int, str]  # sku_id, loc_id, lot
_CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Cycle:
    id: int
    ref: str
    kind: str
    blind: bool
    status: str
    opened_at: datetime
    counted_at: datetime | None
    closed_at: datetime | None


def utc(ts: datetime) -> datetime:
    """An aware UTC time (SQLite hands back naive UTC)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def maybe_utc(ts: datetime | None) -> datetime | None:
    return None if ts is None else utc(ts)


def find(conn: Connection, ref: str, lock: str = "") -> Cycle | None:
    """The count `ref`; `lock` "share" (scans) or "update" (state changes) on PostgreSQL."""
    query: Select[Any] = select(cycle_counts).where(cycle_counts.c.ref == ref)
    if lock:
        query = query.with_for_update(read=lock == "share")
    row = conn.execute(query).first()
    if row is None:
        return None
    return Cycle(
        row.id,
        row.ref,
        row.kind,
        bool(row.blind),
        row.status,
        utc(row.opened_at),
        maybe_utc(row.counted_at),
        maybe_utc(row.closed_at),
    )


def require(conn: Connection, ref: str, lock: str = "") -> Cycle:
    """The count `ref`, or NotFound `unknown reference`."""
    count = find(conn, ref, lock)
    if count is None:
        raise NotFound("unknown reference", f"no count {ref!r}")
    return count


def sku_subset(conn: Connection, cycle_id: int) -> set[int] | None:
    """The SKUs a count is limited to, or None for every SKU."""
    query = select(cycle_count_skus.c.sku_id).where(cycle_count_skus.c.cycle_id == cycle_id)
    found = {int(r) for r in conn.execute(query).scalars()}
    return found or None


def _stored(conn: Connection, count: Cycle) -> list[Any]:
    c = count_lines.c
    return list(
        conn.execute(
            select(
                c.id,
                c.count_id,
                c.sku_id,
                c.lot,
                c.snapshot,
                c.counted,
                c.expected,
                c.counted_at,
                counts.c.loc_id,
                counts.c.status.label("sheet_status"),
            )
            .join(counts, counts.c.id == c.count_id)
            .where(counts.c.cycle_id == count.id)
        )
    )


def _tallies(conn: Connection, count: Cycle) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = defaultdict(dict)
    query = (
        select(count_tallies.c.line_id, count_tallies.c.dev, count_tallies.c.qty)
        .join(count_lines, count_lines.c.id == count_tallies.c.line_id)
        .join(counts, counts.c.id == count_lines.c.count_id)
        .where(counts.c.cycle_id == count.id)
        .order_by(count_tallies.c.dev)
    )
    for row in conn.execute(query):
        out[row.line_id][row.dev] = int(row.qty)
    return out


def sheets(conn: Connection, cycle_id: int) -> dict[int, tuple[int, str]]:
    """loc_id → (sheet id, bin code) of every bin in the count."""
    query = (
        select(counts.c.id, counts.c.loc_id, locations.c.code)
        .join(locations, locations.c.id == counts.c.loc_id)
        .where(counts.c.cycle_id == cycle_id)
    )
    return {r.loc_id: (r.id, r.code) for r in conn.execute(query)}


def _positions(
    conn: Connection, count: Cycle, subset: set[int] | None, since: datetime
) -> tuple[dict[Key, int], dict[Key, list[tuple[datetime, int]]]]:
    """On hand now per key at the count's bins, and the movements there after `since`."""
    bins = select(counts.c.loc_id).where(counts.c.cycle_id == count.id)
    query = select(balances.c.sku_id, balances.c.loc_id, balances.c.lot, balances.c.on_hand).where(
        balances.c.loc_id.in_(bins), balances.c.on_hand != 0
    )
    if subset is not None:
        query = query.where(balances.c.sku_id.in_(sorted(subset)))
    on_hand = {(r.sku_id, r.loc_id, r.lot): int(r.on_hand) for r in conn.execute(query)}
    after: dict[Key, list[tuple[datetime, int]]] = defaultdict(list)
    m = movements.c
    for column, sign in ((m.to_loc_id, 1), (m.from_loc_id, -1)):
        moved = select(m.sku_id, column.label("loc_id"), m.lot, m.qty, m.event_at).where(
            column.in_(bins), m.event_at > since
        )
        if subset is not None:
            moved = moved.where(m.sku_id.in_(sorted(subset)))
        for r in conn.execute(moved):
            after[(r.sku_id, r.loc_id, r.lot)].append((utc(r.event_at), sign * int(r.qty)))
    return on_hand, after


def lines(conn: Connection, count: Cycle, at: datetime | None = None) -> list[Line]:
    """Every line of the count with its figures; `at` stands in for T1 of lines still being
    counted (default: now)."""
    stored = _stored(conn, count)
    settled = count.status in (CLOSED, CANCELLED)
    # (key, T1, stored row or None, expected)
    found: list[tuple[Key, datetime | None, Any, int | None]] = []

    def as_stored(r: Any) -> None:
        expected = None if r.expected is None else int(r.expected)
        found.append(((r.sku_id, r.loc_id, r.lot), maybe_utc(r.counted_at), r, expected))

    live = []
    for r in stored:
        if settled or r.sheet_status == CLOSED:
            as_stored(r)  # figures fixed when it was booked
        else:
            live.append(r)
    if not settled:
        fallback = count.counted_at or utc(at or now())
        t1s = {(r.sku_id, r.loc_id, r.lot): maybe_utc(r.counted_at) for r in live}
        since = min([fallback, *(t for t in t1s.values() if t is not None)])
        on_hand, after = _positions(conn, count, sku_subset(conn, count.id), since)

        def expected(key: Key, t1: datetime) -> int:
            return on_hand.get(key, 0) - sum(q for when, q in after.get(key, []) if when > t1)

        for r in live:
            key = (r.sku_id, r.loc_id, r.lot)
            found.append((key, t1s[key], r, expected(key, t1s[key] or fallback)))
        whole = {(r.sku_id, r.loc_id) for r in stored if r.lot == ""}
        known = {(r.sku_id, r.loc_id, r.lot) for r in stored}
        for key in sorted((set(on_hand) | set(after)) - known):
            if count.kind == SPOT and key[:2] not in whole:
                continue
            if qty := expected(key, fallback):
                found.append((key, count.counted_at, None, qty))
    return _assemble(conn, count, found, settled)


def _assemble(
    conn: Connection,
    count: Cycle,
    found: list[tuple[Key, datetime | None, Any, int | None]],
    settled: bool,
) -> list[Line]:
    tallies = _tallies(conn, count)
    bins = sheets(conn, count.id)
    ids = sorted({key[0] for key, *_ in found})
    query = select(skus.c.id, skus.c.sku, skus.c.unit_cost).where(skus.c.id.in_(ids))
    names = {r.id: (r.sku, Decimal(r.unit_cost)) for r in conn.execute(query)}
    out = []
    for (sku_id, loc_id, lot), t1, row, expected in found:
        sku, cost = names[sku_id]
        out.append(
            Line(
                sku=sku,
                sku_id=sku_id,
                loc=bins[loc_id][1],
                loc_id=loc_id,
                sheet_id=bins[loc_id][0],
                lot=lot,
                snapshot=int(row.snapshot) if row is not None else 0,
                expected=expected,
                counted=int(row.counted) if row is not None else 0,
                unit_cost=cost,
                counted_at=t1,
                devices=tallies.get(row.id, {}) if row is not None else {},
                line_id=row.id if row is not None else None,
                frozen=row is not None and row.sheet_status == CLOSED and not settled,
            )
        )
    return out


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(_CENTS))


def _render(r: figures.Review, status: str, hide: bool) -> dict[str, Any]:
    return {
        "sku": r.sku,
        "loc": r.loc,
        "lot": r.lot,
        "all_lots": r.all_lots,
        "snapshot": None if hide else r.snapshot,
        "expected": None if hide else r.expected,
        "counted": r.counted,
        "variance": None if hide else r.variance,
        "value": None if hide else _money(r.value),
        "devices": r.devices,
        "blind_zero": r.blind_zero,
        "counted_at": iso(r.counted_at),
        "status": CLOSED if r.frozen else status,
    }


def _notes(count: Cycle, reviewed: list[figures.Review]) -> list[str]:
    notes = []
    if count.status == OPEN:
        hidden = " (hidden: a blind count)" if count.blind else ""
        notes.append(
            "still counting: expected is the on hand now until the count is submitted" + hidden
        )
    zeros = sum(r.blind_zero for r in reviewed)
    if zeros and count.status in (OPEN, REVIEW):
        notes.append(
            f"{zeros} line(s) in scope were not scanned: counted as 0 (blind zero), "
            "so approving books their stock as a loss unless they are recounted"
        )
    elif zeros and count.status == CLOSED:
        notes.append(f"{zeros} line(s) in scope were not scanned: counted as 0 (blind zero)")
    merged = sum(r.all_lots for r in reviewed)
    if merged:
        notes.append(
            f"{merged} line(s) were scanned without a lot where the SKU is kept in lots: "
            "counted over all its lots (a loss is taken first-expiry first)"
        )
    return notes


def document(conn: Connection, count: Cycle) -> dict[str, Any]:
    """The count with its review lines, totals and notes."""
    reviewed = figures.review(lines(conn, count))
    hide = count.blind and count.status == OPEN
    unknown = hide or count.status == CANCELLED  # a cancelled count has no expected figures
    subset = sku_subset(conn, count.id)
    sku_names: dict[int, str] = {}
    if subset is not None:
        query = select(skus.c.id, skus.c.sku).where(skus.c.id.in_(sorted(subset)))
        sku_names = {r.id: r.sku for r in conn.execute(query)}
    values = [r.value for r in reviewed if r.value is not None and not r.frozen]
    variances = [r.variance for r in reviewed if r.variance is not None and not r.frozen]
    return {
        "ref": count.ref,
        "kind": count.kind,
        "blind": count.blind,
        "status": count.status,
        "opened_at": iso(count.opened_at),
        "counted_at": iso(count.counted_at),
        "closed_at": iso(count.closed_at),
        "locations": sorted(code for _, code in sheets(conn, count.id).values()),
        "skus": None if subset is None else sorted(sku_names[s] for s in subset),
        "lines": [_render(r, count.status, hide) for r in reviewed],
        "totals": {
            "lines": len(reviewed),
            "blind_zero": sum(r.blind_zero for r in reviewed),
            "variance": None if unknown else sum(variances),
            "value": None if unknown else _money(sum(values, Decimal(0))),
        },
        "notes": _notes(count, reviewed),
    }


def summaries(conn: Connection, status: str | None) -> list[dict[str, Any]]:
    query = select(cycle_counts).order_by(cycle_counts.c.opened_at.desc(), cycle_counts.c.id)
    if status is not None:
        query = query.where(cycle_counts.c.status == status)
    return [
        {
            "ref": r.ref,
            "kind": r.kind,
            "blind": bool(r.blind),
            "status": r.status,
            "opened_at": iso(r.opened_at),
            "counted_at": iso(r.counted_at),
            "closed_at": iso(r.closed_at),
        }
        for r in conn.execute(query)
    ]
