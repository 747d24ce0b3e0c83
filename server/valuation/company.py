"""Company settings: the valuation method, the currency and the annual carrying rate.

They live in the ledger (table `company`, one row with id 1) so every process — the API, the
CLI, a second server — values stock the same way. A ledger that never stored them has the
defaults: FIFO, EUR, 0.25. Valuation is derived from the movements each time it is asked for,
so changing the method re-values the whole history (past COGS included) the next time a report
or the Beancount export is made; nothing stored is rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import company
from server.db.sql import iso, now, upsert
from server.valuation.engine import Method

ROW_ID = 1
DEFAULT_METHOD: Method = "fifo"
DEFAULT_CURRENCY = "EUR"
DEFAULT_CARRYING_RATE = Decimal("0.25")


@dataclass(frozen=True, slots=True)
class Company:
    method: Method = DEFAULT_METHOD
    currency: str = DEFAULT_CURRENCY
    carrying_rate: Decimal = DEFAULT_CARRYING_RATE
    updated_at: str | None = None  # None: never stored, the defaults apply


def get(conn: Connection) -> Company:
    """The stored settings, or the defaults."""
    row = conn.execute(select(company).where(company.c.id == ROW_ID)).first()
    if row is None:
        return Company()
    method: Method = "average" if row.valuation_method == "average" else "fifo"
    return Company(method, row.currency, Decimal(row.carrying_rate), iso(row.updated_at))


def doc(settings: Company) -> dict[str, Any]:
    return {
        "valuation_method": settings.method,
        "currency": settings.currency,
        "carrying_rate": str(settings.carrying_rate.quantize(Decimal("0.0001"))),
        "updated_at": settings.updated_at,
    }


def read(conn: Connection) -> dict[str, Any]:
    return doc(get(conn))


def update(
    conn: Connection,
    method: Method | None = None,
    currency: str | None = None,
    carrying_rate: Decimal | None = None,
) -> dict[str, Any]:
    """Store the settings; a field left None keeps its current (or default) value."""
    current = get(conn)
    values = {
        "valuation_method": method or current.method,
        "currency": currency or current.currency,
        "carrying_rate": current.carrying_rate if carrying_rate is None else carrying_rate,
        "updated_at": now(),
    }
    upsert(conn, company, {"id": ROW_ID, **values}, ["id"], values)
    return read(conn)
