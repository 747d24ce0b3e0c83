"""`GET /v1/reports/kpis` (JSON or CSV)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from server.deps import DbDep, Reader
from server.reports.kpis import kpis, to_csv
from server.validation import IdentifierQuery

router = APIRouter()

_ROW = {
    "sku": "PHC-01",
    "units_received": 20,
    "units_sold": 12,
    "on_hand": 7,
    "closing_value": "24.50",
    "average_inventory_value": "27.90",
    "cogs": "27.50",
    "shrinkage_value": "3.00",
    "inventory_turnover": 0.99,
    "sell_through_pct": 60.0,
    "sales_velocity": 2.4,
    "days_of_cover": 2.92,
    "carrying_cost": "0.10",
    "shrinkage_rate_pct": 9.84,
}
_KPIS = {
    "from": "2026-11-27",
    "to": "2026-12-02",
    "days": 5,
    "method": "fifo",
    "currency": "EUR",
    "carrying_rate": "0.2500",
    "skus": [_ROW],
    "total": {**_ROW, "sku": "TOTAL"},
}
_CSV = (
    "sku,units_received,units_sold,on_hand,closing_value,average_inventory_value,cogs,"
    "shrinkage_value,inventory_turnover,sell_through_pct,sales_velocity,days_of_cover,"
    "carrying_cost,shrinkage_rate_pct\r\n"
    "PHC-01,20,12,7,24.50,27.90,27.50,3.00,0.99,60.00,2.40,2.92,0.10,9.84\r\n"
    "TOTAL,20,12,7,24.50,27.90,27.50,3.00,0.99,60.00,2.40,2.92,0.10,9.84\r\n"
)


@router.get(
    "/v1/reports/kpis",
    dependencies=Reader,
    response_model=None,
    responses={
        200: {
            "content": {
                "application/json": {"example": _KPIS},
                "text/csv": {"example": _CSV},
            }
        }
    },
)
async def get_kpis(
    db: DbDep,
    start: Annotated[date, Query(alias="from", description="first day (UTC), inclusive")],
    end: Annotated[date, Query(alias="to", description="the day after the last (UTC)")],
    sku: IdentifierQuery = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> dict[str, Any] | Response:
    """Inventory KPIs over [from, to) per SKU and in total (JSON or CSV).

    COGS (sales + cost corrections, net of customer returns), average inventory value (mean of
    the daily closing values), inventory turnover, sell-through %, sales velocity, days of
    cover, carrying cost at the company's annual rate, shrinkage rate %. Money as strings with
    2 decimals, ratios rounded to 2 decimals, null where a ratio has no meaning (a zero
    divisor). `format=csv` answers text/csv: one row per SKU and a TOTAL row."""
    doc = await db.read(kpis, start, end, sku)
    if format == "csv":
        name = f"kpis_{doc['from']}_{doc['to']}.csv"
        return Response(
            to_csv(doc),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return doc
