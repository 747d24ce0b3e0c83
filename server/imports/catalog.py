"""Catalog import: a CSV of SKUs with their each/inner/case GTINs and reorder settings.

The whole file is checked first (in the file, then against the ledger); any error rejects it
whole (`ImportRejected`, nothing written). Otherwise one transaction creates the new SKUs and
updates the existing ones.

Rules: `sku` is the only required column. A new SKU takes empty cells as defaults (name "",
unit cost 0, no reorder point or quantity, safety stock 0). For an existing SKU only non-empty
cells change it, an empty cell keeps the current value. GTINs are added, never removed; a GTIN
the SKU already has must keep its multiplier (`gtin` = 1 unit, `inner_gtin` = `inner_qty`
units, `case_gtin` = `case_qty` units). `supplier` is the code of a supplier the ledger knows
(`unknown supplier` otherwise); an empty cell keeps the SKU's default supplier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from server.db.engine import TOUCHED
from server.db.schema import balances, gtins, skus, suppliers
from server.errors import Conflict
from server.imports.csvfile import Cells, ImportRejected, Layout, RowError, read
from server.validation import MAX_MULTIPLIER

LAYOUT = Layout(
    columns=(
        "sku", "name", "unit_cost", "gtin", "inner_gtin", "inner_qty", "case_gtin", "case_qty",
        "reorder_point", "reorder_qty", "safety_stock", "supplier",
    ),
    required=("sku",),
    pairs=(("inner_gtin", "inner_qty"), ("case_gtin", "case_qty")),
)  # fmt: skip
_NAMES = {"supplier_id": "supplier"}  # a stored column by its CSV name
_PACKS = (("gtin", ""), ("inner_gtin", "inner_qty"), ("case_gtin", "case_qty"))
_DEFAULTS: dict[str, Any] = {
    "name": "", "unit_cost": 0, "reorder_point": None, "reorder_qty": None, "safety_stock": 0,
    "supplier_id": None,
}  # fmt: skip
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Code:
    gtin14: str
    multiplier: int
    column: str


@dataclass(frozen=True, slots=True)
class Item:
    row: int
    sku: str
    values: dict[str, Any]  # column -> value of the non-empty cells (supplier: supplier_id)
    codes: tuple[Code, ...]
    supplier: str | None  # a supplier's code; None keeps the SKU's


def _item(cells: Cells) -> Item | None:
    sku = cells.identifier("sku")
    values: dict[str, Any] = {}
    if cells.has("name") and (name := cells.name("name")) is not None:
        values["name"] = name
    if (cost := cells.cost("unit_cost")) is not None:
        values["unit_cost"] = cost
    for column in ("reorder_point", "reorder_qty", "safety_stock"):
        if (number := cells.whole(column)) is not None:
            values[column] = number
    supplier = cells.identifier("supplier") if cells.has("supplier") else None
    codes = []
    for gtin_column, qty_column in _PACKS:
        gtin = cells.gtin(gtin_column)
        qty = cells.whole(qty_column, 1, MAX_MULTIPLIER) if qty_column else 1
        if qty_column and cells.has(gtin_column) and not cells.has(qty_column):
            cells.error(qty_column, "missing value", f"{gtin_column} needs its {qty_column}")
        if qty_column and cells.has(qty_column) and not cells.has(gtin_column):
            cells.error(gtin_column, "missing value", f"{qty_column} without a {gtin_column}")
        if gtin is not None and qty is not None:
            codes.append(Code(gtin, qty, gtin_column))
    return None if sku is None else Item(cells.row, sku, values, tuple(codes), supplier)


def parse(data: bytes) -> tuple[list[Item], list[RowError], tuple[str, ...]]:
    """Items, the errors found in the file alone, and the header's columns."""
    table = read(data, LAYOUT)
    errors = list(table.errors)
    items: list[Item] = []
    sku_rows: dict[str, int] = {}
    gtin_rows: dict[str, int] = {}
    for record in table.records:
        item = _item(Cells(record, errors))
        if item is None:
            continue
        if item.sku in sku_rows:
            detail = f"{item.sku} is also on row {sku_rows[item.sku]}"
            errors.append(RowError(item.row, "sku", "duplicate sku", detail))
        sku_rows.setdefault(item.sku, item.row)
        for code in item.codes:
            if code.gtin14 in gtin_rows:
                detail = f"GTIN {code.gtin14} is also on row {gtin_rows[code.gtin14]}"
                errors.append(RowError(item.row, code.column, "duplicate gtin", detail))
            gtin_rows.setdefault(code.gtin14, item.row)
        items.append(item)
    return items, errors, table.columns


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _existing(conn: Connection, items: list[Item]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in _chunks([i.sku for i in items]):
        found.update((r.sku, r) for r in conn.execute(select(skus).where(skus.c.sku.in_(part))))
    return found


def _owners(conn: Connection, items: list[Item]) -> dict[str, tuple[str, int]]:
    """GTIN-14 -> (SKU, multiplier) for the file's GTINs already in the ledger."""
    found: dict[str, tuple[str, int]] = {}
    query = select(gtins.c.gtin14, gtins.c.multiplier, skus.c.sku).join(skus)
    for part in _chunks([c.gtin14 for i in items for c in i.codes]):
        for r in conn.execute(query.where(gtins.c.gtin14.in_(part))):
            found[r.gtin14] = (r.sku, int(r.multiplier))
    return found


def _resolved(item: Item, supplier_ids: dict[str, int]) -> Item:
    if not item.supplier:
        return item
    values = item.values | {"supplier_id": supplier_ids[item.supplier]}
    return Item(item.row, item.sku, values, item.codes, item.supplier)


def _suppliers(conn: Connection, items: list[Item]) -> dict[str, int]:
    codes = sorted({i.supplier for i in items if i.supplier})
    found: dict[str, int] = {}
    for part in _chunks(codes):
        query = select(suppliers.c.code, suppliers.c.id).where(suppliers.c.code.in_(part))
        found.update((r.code, int(r.id)) for r in conn.execute(query))
    return found


def _check(
    items: list[Item], owners: dict[str, tuple[str, int]], supplier_ids: dict[str, int]
) -> list[RowError]:
    errors = []
    for item in items:
        if item.supplier and item.supplier not in supplier_ids:
            detail = f"no supplier {item.supplier!r} (add it first: POST /v1/suppliers)"
            errors.append(RowError(item.row, "supplier", "unknown supplier", detail))
        for code in item.codes:
            if code.gtin14 not in owners:
                continue
            sku, multiplier = owners[code.gtin14]
            if sku != item.sku:
                detail = f"GTIN {code.gtin14} already names {sku}"
                errors.append(RowError(item.row, code.column, "gtin in use", detail))
            elif multiplier != code.multiplier:
                detail = (
                    f"GTIN {code.gtin14} stands for {multiplier} unit(s) of {sku}, "
                    f"not {code.multiplier}"
                )
                errors.append(RowError(item.row, code.column, "multiplier differs", detail))
    return errors


def run(conn: Connection, data: bytes, dry_run: bool = False) -> dict[str, Any]:
    """Check the file whole, then (unless `dry_run`) create and update its SKUs."""
    items, errors, columns = parse(data)
    existing = _existing(conn, items)
    owners = _owners(conn, items)
    supplier_ids = _suppliers(conn, items)
    errors += _check(items, owners, supplier_ids)
    if errors:
        raise ImportRejected(errors, "catalog", columns)
    items = [_resolved(i, supplier_ids) for i in items]
    created, updated, unchanged = [], [], []
    changes: dict[str, dict[str, Any]] = {}
    for item in items:
        new_codes = [c for c in item.codes if c.gtin14 not in owners]
        row = existing.get(item.sku)
        if row is None:
            created.append(item.sku)
            continue
        changes[item.sku] = {k: v for k, v in item.values.items() if getattr(row, k) != v}
        changed = [_NAMES.get(k, k) for k in changes[item.sku]] + (["gtins"] if new_codes else [])
        if changed:
            updated.append({"sku": item.sku, "changed": changed})
        else:
            unchanged.append(item.sku)
    if not dry_run:
        _write(conn, items, existing, owners, changes)
    return {
        "dry_run": dry_run,
        "rows": len(items),
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "gtins_added": sum(1 for i in items for c in i.codes if c.gtin14 not in owners),
    }


def _write(
    conn: Connection,
    items: list[Item],
    existing: dict[str, Any],
    owners: dict[str, tuple[str, int]],
    changes: dict[str, dict[str, Any]],
) -> None:
    new = [{"sku": i.sku, **_DEFAULTS, **i.values} for i in items if i.sku not in existing]
    try:
        if new:
            conn.execute(skus.insert(), new)
        for sku, values in changes.items():
            if values:
                conn.execute(skus.update().where(skus.c.id == existing[sku].id).values(**values))
        created = _existing(conn, [i for i in items if i.sku not in existing])
        ids = {sku: row.id for sku, row in (existing | created).items()}
        codes = [
            {"gtin14": c.gtin14, "sku_id": ids[i.sku], "multiplier": c.multiplier}
            for i in items
            for c in i.codes
            if c.gtin14 not in owners
        ]
        if codes:
            conn.execute(gtins.insert(), codes)
    except IntegrityError:
        raise Conflict(
            "catalog changed", "another request added one of these SKUs or GTINs: import again"
        ) from None
    safety = [existing[s].id for s, values in changes.items() if "safety_stock" in values]
    for part in _chunks(safety):  # what channels may sell changed where the SKU has stock
        query = select(balances.c.sku_id, balances.c.loc_id).where(balances.c.sku_id.in_(part))
        conn.info.setdefault(TOUCHED, set()).update(
            (r.sku_id, r.loc_id) for r in conn.execute(query)
        )
