"""Explaining a code: decoded fields or the refusal, plus the SKU when a catalog is at hand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from server.barcodes.parse import BarcodeRefused, decode, sscc_refusal
from server.barcodes.resolve import lookup


def explain(code: str, conn: Connection | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"code": code}
    try:
        decoded = decode(code)
    except BarcodeRefused as exc:
        return doc | {"ok": False, "refused": exc.reason, "detail": exc.detail}
    doc |= {"ok": True, **decoded.to_json()}
    if decoded.gtin14 is None:
        refusal = sscc_refusal(decoded.sscc)
        doc |= {"ok": False, "refused": refusal.reason, "detail": refusal.detail}
    elif conn is not None:
        try:
            item = lookup(conn, decoded)
        except BarcodeRefused as exc:
            doc |= {"ok": False, "refused": exc.reason, "detail": exc.detail, "sku": None}
        else:
            doc |= {"sku": item.sku, "units": item.units}
    return doc
