"""`GET /v1/reorder-alerts`, `GET /v1/reports/sell-through` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.deps import Admin, DbDep
from server.reports.reorder import open_alerts
from server.reports.sell_through import sell_through

router = APIRouter(dependencies=Admin)


@router.get("/v1/reorder-alerts")
def get_alerts(db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        return {"alerts": open_alerts(conn)}


@router.get("/v1/reports/sell-through")
def get_sell_through(db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        return {"skus": sell_through(conn)}
