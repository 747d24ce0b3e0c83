"""`POST /v1/purchase-orders`, `GET /v1/purchase-orders/{ref}` (admin)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.deps import Admin, DbDep
from server.purchasing import service
from server.validation import Identifier, IdentifierPath, OrderQty, UnitCost

router = APIRouter(dependencies=Admin)


class PoLine(BaseModel):
    sku: Identifier
    qty: OrderQty
    unit_cost: UnitCost = Decimal("0")


class PoBody(BaseModel):
    ref: Identifier
    lines: list[PoLine] = Field(min_length=1, max_length=100_000)


@router.post("/v1/purchase-orders")
def post_po(body: PoBody, db: DbDep) -> dict[str, Any]:
    with db.write() as conn:
        return service.create(conn, body.ref, [(x.sku, x.qty, x.unit_cost) for x in body.lines])


@router.get("/v1/purchase-orders/{ref}")
def get_po(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        return service.get(conn, ref)
