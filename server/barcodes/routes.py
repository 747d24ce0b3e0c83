"""`GET /v1/barcodes/explain?code=` (admin): what the ledger makes of any code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.barcodes.explain import explain
from server.deps import DbDep, Reader
from server.openapi import example

router = APIRouter(dependencies=Reader)


_EXPLAINED = {
    "code": "]C101095060001343521727123110LOT42\u001d2112345",
    "ok": True,
    "gtin14": "09506000134352",
    "lot": "LOT42",
    "expiry": "2027-12-31",
    "serial": "12345",
    "qty": 1,
    "sscc": None,
    "net_weight_kg": None,
    "sku": "CLN-200",
    "units": 1,
}


@router.get("/v1/barcodes/explain", responses=example(_EXPLAINED))
async def get_explain(code: str, db: DbDep) -> dict[str, Any]:
    """What the ledger makes of any code: GTIN-14, SKU, lot, expiry, serial, quantity.

    A code it cannot use is still 200, with `ok: false`, the refusal reason (`check digit`,
    `unknown barcode`, ...) and a detail naming the offending part."""
    return await db.read(lambda conn: explain(code, conn))
