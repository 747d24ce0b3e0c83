"""SKU upsert and lookup; GTINs stored as GTIN-14 with a multiplier (each=1, case=12, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from server.barcodes.parse import normalize_gtin
from server.db.schema import gtins, skus, suppliers
from server.errors import Conflict, NotFound
from server.suppliers.service import supplier_id


@dataclass(frozen=True, slots=True)
class GtinIn:
    gtin: str
    multiplier: int = 1


@dataclass(frozen=True, slots=True)
class SkuIn:
    sku: str
    name: str = ""
    unit_cost: Decimal = Decimal("0")
    reorder_point: int | None = None
    reorder_qty: int | None = None
    gtins: tuple[GtinIn, ...] = ()
    supplier: str | None = None  # default supplier's code; None keeps it, "" removes it


def sku_id(conn: Connection, sku: str) -> int:
    found = conn.execute(select(skus.c.id).where(skus.c.sku == sku)).scalar()
    if found is None:
        raise NotFound("unknown sku", sku)
    return int(found)


def add_gtin(conn: Connection, sku: str, gtin: str, multiplier: int = 1) -> dict[str, Any]:
    sid = sku_id(conn, sku)
    gtin14 = normalize_gtin(gtin)
    owner = conn.execute(select(gtins.c.sku_id).where(gtins.c.gtin14 == gtin14)).scalar()
    if owner is not None and owner != sid:
        raise Conflict("gtin in use", f"{gtin14} already names another SKU")
    if owner is None:
        conn.execute(gtins.insert().values(gtin14=gtin14, sku_id=sid, multiplier=multiplier))
        return get(conn, sku)
    current = conn.execute(select(gtins.c.multiplier).where(gtins.c.gtin14 == gtin14)).scalar()
    if current != multiplier:
        raise Conflict(
            "multiplier differs",
            f"{gtin14} already stands for {current} unit(s) of {sku}, not {multiplier}",
        )
    return get(conn, sku)


def upsert(conn: Connection, item: SkuIn) -> dict[str, Any]:
    values = {
        "name": item.name,
        "unit_cost": item.unit_cost,
        "reorder_point": item.reorder_point,
        "reorder_qty": item.reorder_qty,
    }
    if item.supplier is not None:
        values["supplier_id"] = supplier_id(conn, item.supplier) if item.supplier else None
    existing = conn.execute(select(skus.c.id).where(skus.c.sku == item.sku)).scalar()
    if existing is None:
        conn.execute(skus.insert().values(sku=item.sku, **values))
    else:
        conn.execute(skus.update().where(skus.c.id == existing).values(**values))
    for g in item.gtins:
        add_gtin(conn, item.sku, g.gtin, g.multiplier)
    return get(conn, item.sku)


def _doc(row: Any, codes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "sku": row.sku,
        "name": row.name,
        "unit_cost": str(row.unit_cost.quantize(Decimal("0.01"))),
        "reorder_point": row.reorder_point,
        "reorder_qty": row.reorder_qty,
        "supplier": row.supplier,
        "gtins": codes,
    }


def list_all(conn: Connection, sku: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(skus, suppliers.c.code.label("supplier"))
        .outerjoin(suppliers, suppliers.c.id == skus.c.supplier_id)
        .order_by(skus.c.sku)
    )
    if sku is not None:
        query = query.where(skus.c.sku == sku)
    rows = conn.execute(query).all()
    codes: dict[int, list[dict[str, Any]]] = {}
    for g in conn.execute(select(gtins).order_by(gtins.c.gtin14)):
        codes.setdefault(g.sku_id, []).append({"gtin": g.gtin14, "multiplier": g.multiplier})
    return [_doc(r, codes.get(r.id, [])) for r in rows]


def get(conn: Connection, sku: str) -> dict[str, Any]:
    found = list_all(conn, sku)
    if not found:
        raise NotFound("unknown sku", sku)
    return found[0]
