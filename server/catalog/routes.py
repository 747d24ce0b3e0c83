"""`POST/GET /v1/skus`, `POST /v1/skus/{sku}/gtins` (admin)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.catalog import service
from server.deps import AdminOnly, DbDep, Reader
from server.validation import (
    Identifier,
    IdentifierPath,
    Multiplier,
    Name,
    Quantity,
    Text,
    UnitCost,
)

router = APIRouter()


class GtinBody(BaseModel):
    gtin: Text
    multiplier: Multiplier = 1


class SkuBody(BaseModel):
    sku: Identifier
    name: Name = ""
    unit_cost: UnitCost = Decimal("0")
    reorder_point: Quantity | None = None
    reorder_qty: Quantity | None = None
    gtin: Text | None = None  # shorthand for one each-level GTIN
    gtins: list[GtinBody] = Field([], max_length=1000)


@router.post("/v1/skus", dependencies=AdminOnly)
async def post_sku(body: SkuBody, db: DbDep) -> dict[str, Any]:
    codes = [service.GtinIn(g.gtin, g.multiplier) for g in body.gtins]
    if body.gtin:
        codes.insert(0, service.GtinIn(body.gtin, 1))
    item = service.SkuIn(
        body.sku, body.name, body.unit_cost, body.reorder_point, body.reorder_qty, tuple(codes)
    )
    return await db.write(service.upsert, item)


@router.get("/v1/skus", dependencies=Reader)
async def get_skus(db: DbDep) -> dict[str, Any]:
    return {"skus": await db.read(service.list_all)}


@router.post("/v1/skus/{sku}/gtins", dependencies=AdminOnly)
async def post_gtin(sku: IdentifierPath, body: GtinBody, db: DbDep) -> dict[str, Any]:
    return await db.write(service.add_gtin, sku, body.gtin, body.multiplier)
