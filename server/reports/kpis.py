"""Inventory KPIs over a period [from, to) of whole UTC days, per SKU and in total.

Figures come from the valuation effects (server.valuation.service), so they agree with
`GET /v1/valuation` and with the Beancount journal (COGS and shrinkage are what the journal
posts to Expenses:COGS and Expenses:Inventory-Shrinkage in the period):

* COGS: sales issues + cost corrections posted in the period, net of customer returns (a
  return is credited to COGS at the value it came back at).
* average inventory value: the mean of the daily closing values over the period's days (the
  value after every event of the day; for a one-day period, that day's closing value).
* inventory turnover = COGS ÷ average inventory value (null when the average is 0).
* sell-through % = sold ÷ received × 100 in the period, in units (sold = sales − customer
  returns, received = receipts − returns to the supplier; null when nothing was received).
* sales velocity = units sold ÷ days in the period.
* days of cover = on hand at period end ÷ velocity (null when the velocity is 0 or less).
* carrying cost = average inventory value × carrying rate × days ÷ 365.
* shrinkage rate % = shrinkage value ÷ (COGS + shrinkage value) × 100 (null when that is 0);
  shrinkage value = stock lost (count losses, write-offs) net of stock found, at cost.

Money is rendered as strings with 2 decimals, ratios as numbers rounded to 2 decimals. The
TOTAL row adds the SKUs' amounts and units and derives its ratios from those sums.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection

from server.accounting.beancount import COGS, INVENTORY, SHRINKAGE, postings
from server.errors import Refused
from server.valuation import company
from server.valuation.engine import ZERO
from server.valuation.service import Book, books, day_start, money

MAX_DAYS = 3660  # ten years of daily closing values per SKU
TOTAL = "TOTAL"
COLUMNS = (
    "sku",
    "units_received",
    "units_sold",
    "on_hand",
    "closing_value",
    "average_inventory_value",
    "cogs",
    "shrinkage_value",
    "inventory_turnover",
    "sell_through_pct",
    "sales_velocity",
    "days_of_cover",
    "carrying_cost",
    "shrinkage_rate_pct",
)


@dataclass(frozen=True)
class Figures:
    """The additive figures of one SKU (or of several, added) over a period."""

    sku: str
    received: int = 0
    sold: int = 0
    on_hand: int = 0
    closing_value: Decimal = ZERO
    closings: Decimal = ZERO  # sum of the daily closing values
    cogs: Decimal = ZERO
    shrinkage: Decimal = ZERO

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            TOTAL,
            self.received + other.received,
            self.sold + other.sold,
            self.on_hand + other.on_hand,
            self.closing_value + other.closing_value,
            self.closings + other.closings,
            self.cogs + other.cogs,
            self.shrinkage + other.shrinkage,
        )


def figures(book: Book, start: date, end: date) -> Figures:
    """One SKU's figures over [start, end)."""
    lo, hi = day_start(start), day_start(end)
    effects = sorted(book.valuation.effects, key=lambda e: e.at)
    closings, value, i = ZERO, ZERO, 0
    for n in range((end - start).days):
        boundary = day_start(start + timedelta(days=n + 1))
        while i < len(effects) and effects[i].at < boundary:
            value += effects[i].inventory
            i += 1
        closings += value
    received = sold = 0
    cogs = shrinkage = ZERO
    for effect in effects:
        if not lo <= effect.at < hi:
            continue
        posted = postings(effect, INVENTORY)
        cogs += posted.get(COGS, ZERO)
        shrinkage += posted.get(SHRINKAGE, ZERO)
        if effect.kind in ("issue:sale", "gain:return"):
            sold -= effect.qty  # a sale's qty is negative, a return's positive
        elif effect.kind in ("receipt", "issue:supplier-return"):
            received += effect.qty
    on_hand = sum(e.qty for e in effects if e.at < hi)
    return Figures(book.sku, received, sold, on_hand, value, closings, cogs, shrinkage)


def _ratio(value: Decimal | None) -> float | None:
    if value is None:
        return None
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def row(f: Figures, days: int, carrying_rate: Decimal) -> dict[str, Any]:
    """The KPI row of some figures over a period of `days` days."""
    average = f.closings / days
    velocity = Decimal(f.sold) / days
    lost = f.cogs + f.shrinkage
    return {
        "sku": f.sku,
        "units_received": f.received,
        "units_sold": f.sold,
        "on_hand": f.on_hand,
        "closing_value": money(f.closing_value),
        "average_inventory_value": money(average),
        "cogs": money(f.cogs),
        "shrinkage_value": money(f.shrinkage),
        "inventory_turnover": _ratio(f.cogs / average if average else None),
        "sell_through_pct": _ratio(Decimal(f.sold) * 100 / f.received if f.received > 0 else None),
        "sales_velocity": _ratio(velocity),
        "days_of_cover": _ratio(f.on_hand / velocity if velocity > 0 else None),
        "carrying_cost": money(average * carrying_rate * days / 365),
        "shrinkage_rate_pct": _ratio(f.shrinkage * 100 / lost if lost else None),
    }


def check_period(start: date, end: date) -> int:
    """The number of days in [start, end); Refused unless 1..MAX_DAYS."""
    days = (end - start).days
    if days < 1:
        raise Refused("bad period", f"to ({end}) must be after from ({start})")
    if days > MAX_DAYS:
        raise Refused("bad period", f"{days} days from {start} to {end}, at most {MAX_DAYS}")
    return days


def kpis(conn: Connection, start: date, end: date, sku: str | None = None) -> dict[str, Any]:
    """Every SKU with valuation events (or just `sku`) and a TOTAL row over [start, end)."""
    days = check_period(start, end)
    settings = company.get(conn)
    found = [figures(book, start, end) for book in books(conn, settings.method, sku)]
    total = sum(found, Figures(TOTAL))
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": days,
        "method": settings.method,
        "currency": settings.currency,
        "carrying_rate": str(settings.carrying_rate.quantize(Decimal("0.0001"))),
        "skus": [row(f, days, settings.carrying_rate) for f in found],
        "total": row(total, days, settings.carrying_rate),
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def to_csv(doc: dict[str, Any]) -> str:
    """One row per SKU and a TOTAL row, after a header of the column names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in [*doc["skus"], doc["total"]]:
        writer.writerow([_cell(item[column]) for column in COLUMNS])
    return out.getvalue()
