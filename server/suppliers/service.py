"""Supplier upsert and lookup (code, name, lead time in days, currency)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import suppliers
from server.db.sql import iso, now
from server.errors import NotFound


@dataclass(frozen=True, slots=True)
class SupplierIn:
    code: str
    name: str = ""
    lead_time_days: int = 0
    currency: str | None = None


def supplier_id(conn: Connection, code: str) -> int:
    """The id of supplier `code`; NotFound `unknown supplier` otherwise."""
    found = conn.execute(select(suppliers.c.id).where(suppliers.c.code == code)).scalar()
    if found is None:
        raise NotFound("unknown supplier", code)
    return int(found)


def expected_on(conn: Connection, sid: int | None) -> date | None:
    """Today (UTC) plus the supplier's lead time; None without a supplier."""
    if sid is None:
        return None
    days = conn.execute(select(suppliers.c.lead_time_days).where(suppliers.c.id == sid)).scalar()
    return now().date() + timedelta(days=int(days or 0))


def upsert(conn: Connection, item: SupplierIn) -> dict[str, Any]:
    values = {"name": item.name, "lead_time_days": item.lead_time_days, "currency": item.currency}
    existing = conn.execute(select(suppliers.c.id).where(suppliers.c.code == item.code)).scalar()
    if existing is None:
        conn.execute(suppliers.insert().values(code=item.code, created_at=now(), **values))
    else:
        conn.execute(suppliers.update().where(suppliers.c.id == existing).values(**values))
    return get(conn, item.code)


def _doc(row: Any) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "lead_time_days": int(row.lead_time_days),
        "currency": row.currency,
        "created_at": iso(row.created_at),
    }


def list_all(conn: Connection) -> list[dict[str, Any]]:
    return [_doc(r) for r in conn.execute(select(suppliers).order_by(suppliers.c.code))]


def get(conn: Connection, code: str) -> dict[str, Any]:
    row = conn.execute(select(suppliers).where(suppliers.c.code == code)).first()
    if row is None:
        raise NotFound("unknown supplier", code)
    return _doc(row)
