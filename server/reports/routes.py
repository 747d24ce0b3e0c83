"""`GET /v1/reorder-alerts`, `GET /v1/reports/sell-through` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.deps import DbDep, Reader
from server.reports.reorder import open_alerts
from server.reports.sell_through import sell_through

router = APIRouter(dependencies=Reader)


@router.get("/v1/reorder-alerts")
async def get_alerts(db: DbDep) -> dict[str, Any]:
    return {"alerts": await db.read(open_alerts)}


@router.get("/v1/reports/sell-through")
async def get_sell_through(db: DbDep) -> dict[str, Any]:
    return {"skus": await db.read(sell_through)}
