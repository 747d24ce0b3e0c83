"""`GET /v1/stock` (admin): balance rows, real locations unless ?virtual=1."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.deps import DbDep, Reader
from server.ledger.stock import stock
from server.validation import IdentifierQuery

router = APIRouter(dependencies=Reader)


_STOCK = {
    "sku": "PHC-01",
    "loc": "WH1-A-01",
    "lot": "",
    "expiry": None,
    "on_hand": 5,
    "reserved": 0,
    "safety_stock": 0,
    "available": 5,
}


@router.get(
    "/v1/stock",
    summary="Stock per SKU, location and lot",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "stock": [_STOCK],
                        "under": "WH1",
                        "totals": [{"sku": "PHC-01", "on_hand": 5, "reserved": 0, "available": 5}],
                    }
                }
            }
        }
    },
)
async def get_stock(
    db: DbDep,
    sku: IdentifierQuery = None,
    loc: IdentifierQuery = None,
    virtual: bool = False,
    zero: bool = False,
    under: IdentifierQuery = None,
) -> dict[str, Any]:
    """Balance rows (sku, loc, lot, expiry, on_hand, reserved, safety_stock, available; a
    location's reserved and safety stock show on its lot-less row) of real locations
    (`virtual=true`: also the virtual ones), without zero rows unless `zero=true`. `under`
    keeps the locations in a node's subtree (the node and everything under it) and adds
    `totals` per SKU over them; 404 for an unknown node."""
    return await db.read(stock, sku, loc, virtual, zero, under)
