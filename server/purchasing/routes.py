"""`POST /v1/purchase-orders`, `GET /v1/purchase-orders/{ref}` (admin)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.deps import Clerk, DbDep, Reader
from server.purchasing import service
from server.validation import Identifier, IdentifierPath, OrderQty, UnitCost

router = APIRouter()


class PoLine(BaseModel):
    sku: Identifier
    qty: OrderQty
    unit_cost: UnitCost = Decimal("0")


class PoBody(BaseModel):
    ref: Identifier
    lines: list[PoLine] = Field(min_length=1, max_length=100_000)


@router.post("/v1/purchase-orders", dependencies=Clerk)
async def post_po(body: PoBody, db: DbDep) -> dict[str, Any]:
    lines = [(x.sku, x.qty, x.unit_cost) for x in body.lines]
    return await db.write(service.create, body.ref, lines)


@router.get("/v1/purchase-orders/{ref}", dependencies=Reader)
async def get_po(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    return await db.read(service.get, ref)
