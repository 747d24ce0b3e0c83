"""`GET /v1/stock` (admin): balance rows, real locations unless ?virtual=1."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.deps import DbDep, Reader
from server.ledger.stock import rows
from server.validation import IdentifierQuery

router = APIRouter(dependencies=Reader)


@router.get("/v1/stock")
async def get_stock(
    db: DbDep,
    sku: IdentifierQuery = None,
    loc: IdentifierQuery = None,
    virtual: bool = False,
    zero: bool = False,
) -> dict[str, Any]:
    found = await db.read(rows, sku, loc, include_virtual=virtual, include_zero=zero)
    return {"stock": found}
