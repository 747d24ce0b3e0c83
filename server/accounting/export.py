"""The ledger's Beancount journal: valuation effects read from the database, written by
server.accounting.beancount (`stockwire ledger export-beancount`).

A period [from, to) of UTC days may be given. Effects before `from` are carried into one
"opening" transaction per SKU dated `from` (Assets:Inventory:<SKU> / Equity:Opening-Balances at
the value the SKU had then); effects from `to` on are left out. The closing balance assertion is
dated `to` (the start of that day, i.e. after the last day of the period) and states the value
after the period; without `to` it is dated the day after the last day with an effect (today at
the earliest) and states the current valuation, the `total` of `GET /v1/valuation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection

from server.accounting.beancount import SkuEffects, journal
from server.errors import Refused
from server.valuation import company
from server.valuation.engine import ZERO, Effect
from server.valuation.service import books, day_start


@dataclass(frozen=True)
class Export:
    text: str
    currency: str
    inventory: Decimal  # the sum of the closing balance assertions
    skus: int
    opened: date
    as_of: date


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def export(conn: Connection, start: date | None = None, end: date | None = None) -> Export:
    """The journal of every SKU's effects in [start, end) (either bound may be open)."""
    if start and end and end <= start:
        raise Refused("bad period", f"to ({end}) must be after from ({start})")
    settings = company.get(conn)
    lo = day_start(start) if start else None
    hi = day_start(end) if end else None
    entries, days = [], []
    for book in books(conn, settings.method):
        effects = book.effects(lo, hi)
        if lo is not None:
            qty, value = book.state_before(lo)
            if qty or value:
                effects.insert(0, Effect(0, lo, "opening", qty, value, ZERO))
        closing = book.state_before(hi)[1]
        entries.append(SkuEffects(book.sku, effects, closing))
        days += [_day(e.at) for e in effects]
    last = end - timedelta(days=1) if end is not None else None
    as_of = last or max([datetime.now(UTC).date(), *days, *([start] if start else [])])
    opened = start or min([as_of, *days])
    try:
        text = journal(entries, settings.currency, opened, as_of)
    except ValueError as exc:  # e.g. two SKU codes that meet on one account name
        raise Refused("cannot export", str(exc)) from exc
    total = sum((e.value for e in entries), ZERO)
    return Export(text, settings.currency, total, len(entries), opened, as_of)
