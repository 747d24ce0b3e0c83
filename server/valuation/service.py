"""Valuation read from the ledger: each SKU's book under the company's method, the stock value
at a time (`GET /v1/valuation`) and one SKU's COGS per sale (`GET /v1/valuation/{sku}/cogs`).

Nothing is stored: every answer replays the SKU's movements and cost revisions through the
engine, so it always reflects the current method, costs and revisions. Amounts are rendered
with 2 decimals, unit costs with 4 (the precision costs are stored with).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection

from server.accounting.beancount import COGS, INVENTORY, postings
from server.catalog.service import sku_id
from server.db.sql import iso
from server.valuation import company
from server.valuation.engine import ZERO, Effect, Method, Valuation, value
from server.valuation.ledger import Source, histories

CENTS = Decimal("0.01")
COST = Decimal("0.0001")


def money(amount: Decimal) -> str:
    """An amount as the API shows it: a string with 2 decimals (half-even)."""
    return str(amount.quantize(CENTS, rounding=ROUND_HALF_EVEN) + 0)  # + 0: no "-0.00"


def unit(amount: Decimal) -> str:
    return str(amount.quantize(COST, rounding=ROUND_HALF_EVEN) + 0)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


@dataclass(frozen=True)
class Book:
    """One SKU valued under a method: its valuation (effects in seq order) and their sources."""

    sku: str
    valuation: Valuation
    sources: dict[int, Source]

    def effects(self, start: datetime | None = None, end: datetime | None = None) -> list[Effect]:
        """Effects with start <= at < end (either bound may be open)."""
        return [
            e
            for e in self.valuation.effects
            if (start is None or e.at >= start) and (end is None or e.at < end)
        ]

    def state_before(self, end: datetime | None) -> tuple[int, Decimal]:
        """(qty, value) after every effect with at < end (the whole book when end is None)."""
        if end is None:
            return self.valuation.qty, self.valuation.value
        effects = self.effects(end=end)
        return sum(e.qty for e in effects), sum((e.inventory for e in effects), ZERO)


def books(conn: Connection, method: Method, sku: str | None = None) -> list[Book]:
    """Every SKU with any valuation event (or just `sku`, events or not), sorted by SKU."""
    found = histories(conn, [sku_id(conn, sku)] if sku is not None else None)
    out = [
        Book(h.sku, value(h.events, method, h.fallback_cost), h.sources)
        for h in found.values()
        if h.events or sku is not None
    ]
    return sorted(out, key=lambda b: b.sku)


def cogs_amount(effect: Effect) -> Decimal:
    """What the effect debits to Expenses:COGS (a credit is negative), as the journal posts it."""
    return postings(effect, INVENTORY).get(COGS, ZERO)


def valuation(conn: Connection, until: datetime | None = None) -> dict[str, Any]:
    """Quantity and value per SKU after every event with `at` < until (all events if None)."""
    settings = company.get(conn)
    rows, total = [], ZERO
    for book in books(conn, settings.method):
        qty, amount = book.state_before(until)
        total += amount
        rows.append(
            {
                "sku": book.sku,
                "qty": qty,
                "value": money(amount),
                "unit_cost": unit(amount / qty) if qty > 0 else None,
                "method": settings.method,
                "currency": settings.currency,
            }
        )
    return {
        "as_of": iso(until),
        "method": settings.method,
        "currency": settings.currency,
        "skus": rows,
        "total": money(total),
    }


def _sale(effect: Effect, source: Source) -> dict[str, Any]:
    qty = -effect.qty
    return {
        "seq": effect.seq,
        "at": iso(effect.at),
        "movement_id": source.movement_id,
        "ref": source.ref,
        "qty": qty,
        "cost": money(effect.cogs),
        "unit_cost": unit(effect.cogs / qty),
    }


def _return(effect: Effect, source: Source) -> dict[str, Any]:
    return {
        "seq": effect.seq,
        "at": iso(effect.at),
        "movement_id": source.movement_id,
        "ref": source.ref,
        "qty": effect.qty,
        "value": money(effect.inventory),
    }


def _correction(effect: Effect, source: Source, amount: Decimal) -> dict[str, Any]:
    revision = effect.kind == "revision"
    return {
        "seq": effect.seq,
        "at": iso(effect.at),
        "kind": "revision" if revision else "shortfall",
        "movement_id": source.movement_id,
        "revision_id": source.revision_id,
        "unit_cost": unit(source.unit_cost) if revision and source.unit_cost is not None else None,
        "note": source.note,
        "cogs": money(amount),
        "inventory": money(effect.inventory),
    }


def cogs(conn: Connection, sku: str, start: date | None, end: date | None) -> dict[str, Any]:
    """One SKU's COGS in [start, end): each sale with its cost, each customer return (credited
    at the value it came back at) and each cost correction (a revision's share for stock
    already gone; a receipt filling stock issued short)."""
    settings = company.get(conn)
    (book,) = books(conn, settings.method, sku)
    lo = day_start(start) if start else None
    hi = day_start(end) if end else None
    sales, returns, corrections = [], [], []
    totals = {"sales": ZERO, "returns": ZERO, "corrections": ZERO}
    for effect in book.effects(lo, hi):
        amount, source = cogs_amount(effect), book.sources[effect.seq]
        if effect.kind == "issue:sale":
            sales.append(_sale(effect, source))
            totals["sales"] += amount
        elif effect.kind == "gain:return":
            returns.append(_return(effect, source))
            totals["returns"] -= amount
        elif amount:
            corrections.append(_correction(effect, source, amount))
            totals["corrections"] += amount
    net = totals["sales"] - totals["returns"] + totals["corrections"]
    return {
        "sku": book.sku,
        "method": settings.method,
        "currency": settings.currency,
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "sales": sales,
        "returns": returns,
        "corrections": corrections,
        "totals": {**{k: money(v) for k, v in totals.items()}, "cogs": money(net)},
    }


def end_of(day: date) -> datetime:
    """The instant a day ends (the next day's midnight, UTC)."""
    return day_start(day + timedelta(days=1))
