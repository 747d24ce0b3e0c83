"""From the ledger's rows to valuation events: which movements change the company's stock.

Owns the ownership rule and the mapping of movements and cost revisions to the engine's events
(server.valuation.engine), nothing else; it reads, never writes.

Ownership: stock in real locations, in `in-transit` (and every `in-transit/<ref>`) and in the
virtual `quarantine` location belongs to the company; `supplier`, `customer`, `inventory-loss`
and `count-adjustment` are outside. A movement between two owned locations (a transfer, a
put-away into quarantine) changes nothing, nor does one between two outside locations.

Into the company (outside → owned):
  kind "receive"               Receipt at movements.unit_cost, else the SKU's unit cost;
                               key "m:<movement id>" (what a cost revision names)
  kind "opening", "stocktake"  Opening at movements.unit_cost, else the SKU's unit cost
  kind "return"                Gain("return"): back at the current unit cost
  any other kind               Gain("count-gain") (count variance, count absorbed, found)
Out of the company (owned → outside):
  to `customer`                Issue("sale")
  to `supplier`                Issue("supplier-return"): costed like any issue under the
                               method (FIFO's oldest layers, or the average), credited to goods
                               received not invoiced; neither COGS nor shrinkage
  anywhere else                Issue("shrinkage") (inventory-loss, count-adjustment)
A cost_revisions row becomes Revision(key "m:<movement_id>"). A revision of a movement that is
not a receipt (as defined above) has nothing to correct and is left out.

Order: one seq space for all SKUs. Movements and revisions are sorted by booking time
(movements.booked_at, cost_revisions.revised_at; a movement before a revision booked at the same
instant, then by id) and numbered 1, 2, ... in that order; a revision never sorts before the
receipt it corrects. An event's time `at` (what period reports use) is movements.event_at
(booked_at when missing), and revised_at for a revision.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import cost_revisions, locations, movements, skus
from server.locations.service import IN_TRANSIT, QUARANTINE
from server.valuation.engine import Event, Gain, Issue, Opening, Receipt, Revision

OPENING_KINDS = ("opening", "stocktake")


@dataclass(frozen=True, slots=True)
class Source:
    """The ledger row an event came from (for reports that name what caused a cost)."""

    movement_id: int  # for a revision: the receipt it corrects
    kind: str  # the movement's kind, or "revision"
    ref: str = ""
    revision_id: int | None = None
    unit_cost: Decimal | None = None  # a receipt's or opening's cost, a revision's new cost
    note: str = ""


@dataclass
class History:
    """One SKU's events in seq order and where each came from."""

    sku_id: int
    sku: str
    fallback_cost: Decimal
    events: list[Event] = field(default_factory=list)
    sources: dict[int, Source] = field(default_factory=dict)


def owned(code: str, virtual: bool) -> bool:
    """Whether stock at this location belongs to the company."""
    if not virtual:
        return True
    return code in (QUARANTINE, IN_TRANSIT) or code.startswith(f"{IN_TRANSIT}/")


def aware(ts: datetime) -> datetime:
    """SQLite hands back naive UTC."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _outside_kind(code: str) -> str:
    if code == "customer":
        return "sale"
    if code == "supplier":
        return "supplier-return"
    return "shrinkage"


@dataclass(frozen=True, slots=True)
class _Pending:
    """An event before it has its seq: sorted by `order`, then built by `make(seq)`."""

    order: tuple[datetime, int, int]
    sku_id: int
    source: Source
    spec: tuple[Any, ...]  # ("receipt"|"opening", qty, cost) | ("gain"|"issue", qty, kind)
    at: datetime


def _movement(row: Any, places: dict[int, tuple[str, bool]], cost: Decimal) -> _Pending | None:
    _, src_owned = places[row.from_loc_id]
    dst_code, dst_owned = places[row.to_loc_id]
    if src_owned == dst_owned:
        return None
    booked = aware(row.booked_at)
    at = aware(row.event_at) if row.event_at is not None else booked
    unit_cost = Decimal(row.unit_cost) if row.unit_cost is not None else cost
    spec: tuple[Any, ...]
    if dst_owned and row.kind == "receive":
        spec = ("receipt", int(row.qty), unit_cost)
    elif dst_owned and row.kind in OPENING_KINDS:
        spec = ("opening", int(row.qty), unit_cost)
    elif dst_owned:
        spec = ("gain", int(row.qty), "return" if row.kind == "return" else "count-gain")
    else:
        spec = ("issue", int(row.qty), _outside_kind(dst_code))
    priced = spec[0] in ("receipt", "opening")
    source = Source(row.id, row.kind, row.ref, unit_cost=unit_cost if priced else None)
    return _Pending((booked, 0, row.id), row.sku_id, source, spec, at)


def _event(p: _Pending, seq: int) -> Event:
    kind, *rest = p.spec
    if kind == "receipt":
        return Receipt(seq, p.at, rest[0], rest[1], f"m:{p.source.movement_id}")
    if kind == "opening":
        return Opening(seq, p.at, rest[0], rest[1])
    if kind == "gain":
        return Gain(seq, p.at, rest[0], rest[1])
    if kind == "issue":
        return Issue(seq, p.at, rest[0], rest[1])
    return Revision(seq, p.at, f"m:{p.source.movement_id}", rest[0])


def histories(conn: Connection, sku_ids: Collection[int] | None = None) -> dict[int, History]:
    """Every SKU's valuation history (only those in `sku_ids` when given), keyed by SKU id;
    a SKU without events has an empty history. Seqs are numbered over the whole ledger, so an
    event has the same seq whichever SKUs are asked for."""
    places = {
        r.id: (r.code, owned(r.code, bool(r.virtual)))
        for r in conn.execute(select(locations.c.id, locations.c.code, locations.c.virtual))
    }
    sku_query = select(skus.c.id, skus.c.sku, skus.c.unit_cost)
    move_query = select(movements).order_by(movements.c.id)
    rev_query = select(cost_revisions, movements.c.sku_id).join(
        movements, movements.c.id == cost_revisions.c.movement_id
    )
    out = {r.id: History(r.id, r.sku, Decimal(r.unit_cost or 0)) for r in conn.execute(sku_query)}
    pending: list[_Pending] = []
    receipts: dict[int, datetime] = {}  # receipt movement id -> booked_at
    for row in conn.execute(move_query):
        item = _movement(row, places, out[row.sku_id].fallback_cost)
        if item is not None:
            pending.append(item)
            if item.spec[0] == "receipt":
                receipts[row.id] = item.order[0]
    for row in conn.execute(rev_query.order_by(cost_revisions.c.id)):
        if row.movement_id not in receipts:
            continue  # not a receipt: nothing to revise
        revised = aware(row.revised_at)
        cost = Decimal(row.unit_cost)
        source = Source(
            row.movement_id, "revision", "", revision_id=row.id, unit_cost=cost, note=row.note
        )
        order = (max(revised, receipts[row.movement_id]), 1, row.id)
        pending.append(_Pending(order, row.sku_id, source, ("revision", cost), revised))
    pending.sort(key=lambda p: p.order)
    wanted = set(out) if sku_ids is None else set(sku_ids)
    for seq, item in enumerate(pending, start=1):
        if item.sku_id in wanted:
            history = out[item.sku_id]
            history.events.append(_event(item, seq))
            history.sources[seq] = item.source
    return {sku_id: h for sku_id, h in out.items() if sku_id in wanted}
