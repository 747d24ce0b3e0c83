"""`POST/GET /v1/skus`, `POST /v1/skus/{sku}/gtins` (admin)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from server.catalog import service
from server.deps import AdminOnly, DbDep, Reader
from server.openapi import example
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
_SKU_IN: dict[str, Any] = {
    "sku": "CLN-200",
    "name": "Facial cleanser 200 ml",
    "unit_cost": "4.00",
    "reorder_point": 30,
    "reorder_qty": 100,
    "gtin": "09506000134352",
}
_EACH: dict[str, Any] = {"gtin": "09506000134352", "multiplier": 1}
_CASE: dict[str, Any] = {"gtin": "19506000134359", "multiplier": 12}
_SKU = {
    **{k: v for k, v in _SKU_IN.items() if k != "gtin"},
    "supplier": None,
    "gtins": [_EACH],
}


class GtinBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CASE]})
    gtin: Text
    multiplier: Multiplier = 1


class SkuBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SKU_IN]})
    sku: Identifier
    name: Name = ""
    unit_cost: UnitCost = Decimal("0")
    reorder_point: Quantity | None = None
    reorder_qty: Quantity | None = None
    gtin: Text | None = None  # shorthand for one each-level GTIN
    gtins: list[GtinBody] = Field([], max_length=1000)
    supplier: Identifier | Literal[""] | None = None  # default supplier; "" removes it


@router.post("/v1/skus", dependencies=AdminOnly, responses=example(_SKU))
async def post_sku(body: SkuBody, db: DbDep) -> dict[str, Any]:
    """Create a SKU, or replace the fields of an existing one; the GTINs given are added.

    `gtin` is shorthand for one each-level GTIN, `gtins` takes several with the units one read
    stands for (an inner of 6, a case of 12). GTINs are stored as GTIN-14 and never removed
    here; one another SKU owns is 409 `gtin in use`."""
    codes = [service.GtinIn(g.gtin, g.multiplier) for g in body.gtins]
    if body.gtin:
        codes.insert(0, service.GtinIn(body.gtin, 1))
    item = service.SkuIn(
        body.sku,
        body.name,
        body.unit_cost,
        body.reorder_point,
        body.reorder_qty,
        tuple(codes),
        body.supplier,
    )
    return await db.write(service.upsert, item)


@router.get("/v1/skus", dependencies=Reader, responses=example({"skus": [_SKU]}))
async def get_skus(db: DbDep) -> dict[str, Any]:
    """Every SKU with its GTINs and their multipliers."""
    return {"skus": await db.read(service.list_all)}


@router.post(
    "/v1/skus/{sku}/gtins",
    dependencies=AdminOnly,
    responses=example(_SKU | {"gtins": [_EACH, _CASE]}),
)
async def post_gtin(sku: IdentifierPath, body: GtinBody, db: DbDep) -> dict[str, Any]:
    """Add a GTIN to a SKU with the number of units one read of it stands for.

    409 `gtin in use` when another SKU owns the GTIN, `multiplier differs` when this SKU has it
    with another multiplier; adding it again unchanged is a no-op."""
    return await db.write(service.add_gtin, sku, body.gtin, body.multiplier)
