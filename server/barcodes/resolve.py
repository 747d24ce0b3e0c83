"""From a scanned code to the SKU and unit quantity it books (GTIN multiplier × AI 37)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from server.barcodes.parse import BarcodeRefused, Decoded, decode, sscc_refusal
from server.db.schema import gtins, skus


@dataclass(frozen=True, slots=True)
class Item:
    sku_id: int
    sku: str
    units: int  # units one read of this code stands for
    lot: str
    expiry: date | None
    serial: str
    decoded: Decoded


def lookup(conn: Connection, decoded: Decoded) -> Item:
    if decoded.gtin14 is None:
        raise sscc_refusal(decoded.sscc)
    row = conn.execute(
        select(skus.c.id, skus.c.sku, gtins.c.multiplier)
        .join(gtins, gtins.c.sku_id == skus.c.id)
        .where(gtins.c.gtin14 == decoded.gtin14)
    ).first()
    if row is None:
        raise BarcodeRefused("unknown barcode", f"GTIN {decoded.gtin14} is not in the catalog")
    return Item(
        sku_id=row.id,
        sku=row.sku,
        units=int(row.multiplier) * decoded.qty,
        lot=decoded.lot,
        expiry=decoded.expiry,
        serial=decoded.serial,
        decoded=decoded,
    )


def resolve(conn: Connection, code: str) -> Item:
    """Refused (`check digit`, `not a valid GTIN`, `not a trade item`, `unknown barcode`)."""
    return lookup(conn, decode(code))
