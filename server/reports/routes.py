"""`GET /v1/reports/sell-through` (reorder alerts: server.reorder.routes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.deps import DbDep, Reader
from server.openapi import example
from server.reports.sell_through import sell_through

router = APIRouter(dependencies=Reader)


_ROW = {"sku": "CLN-200", "sold": 5, "opening": 0, "received": 24, "sell_through_pct": 20.8}


@router.get("/v1/reports/sell-through", responses=example({"skus": [_ROW]}))
async def get_sell_through(db: DbDep) -> dict[str, Any]:
    """Sell-through per SKU: units sold (picks − returns) ÷ (opening stock + received) × 100.

    `sell_through_pct` is null for a SKU that never had stock."""
    return {"skus": await db.read(sell_through)}
