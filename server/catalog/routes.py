"""`POST/GET /v1/skus`, `POST /v1/skus/{sku}/gtins` (admin)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.catalog import service
from server.deps import Admin, DbDep

router = APIRouter(dependencies=Admin)


class GtinBody(BaseModel):
    gtin: str
    multiplier: int = Field(1, ge=1)


class SkuBody(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    name: str = ""
    unit_cost: Decimal = Decimal("0")
    reorder_point: int | None = None
    reorder_qty: int | None = None
    gtin: str | None = None  # shorthand for one each-level GTIN
    gtins: list[GtinBody] = []


@router.post("/v1/skus")
def post_sku(body: SkuBody, db: DbDep) -> dict[str, Any]:
    codes = [service.GtinIn(g.gtin, g.multiplier) for g in body.gtins]
    if body.gtin:
        codes.insert(0, service.GtinIn(body.gtin, 1))
    item = service.SkuIn(
        body.sku, body.name, body.unit_cost, body.reorder_point, body.reorder_qty, tuple(codes)
    )
    with db.write() as conn:
        return service.upsert(conn, item)


@router.get("/v1/skus")
def get_skus(db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        return {"skus": service.list_all(conn)}


@router.post("/v1/skus/{sku}/gtins")
def post_gtin(sku: str, body: GtinBody, db: DbDep) -> dict[str, Any]:
    with db.write() as conn:
        return service.add_gtin(conn, sku, body.gtin, body.multiplier)
