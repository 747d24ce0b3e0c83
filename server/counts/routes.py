"""`POST /v1/stocktakes`, `GET /v1/counts/{ref}`, `POST /v1/counts/{ref}/close` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.counts import service, stocktake
from server.deps import Admin, DbDep
from server.validation import Identifier, IdentifierPath, Quantity

router = APIRouter(dependencies=Admin)


class StocktakeLine(BaseModel):
    sku: Identifier
    loc: Identifier
    qty: Quantity


class StocktakeBody(BaseModel):
    ref: Identifier
    lines: list[StocktakeLine] = Field(max_length=100_000)


@router.post("/v1/stocktakes")
def post_stocktake(body: StocktakeBody, db: DbDep) -> dict[str, Any]:
    with db.write() as conn:
        return stocktake.apply(conn, body.ref, [(x.sku, x.loc, x.qty) for x in body.lines])


@router.get("/v1/counts/{ref}")
def get_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        return service.get(conn, ref)


@router.post("/v1/counts/{ref}/close")
def close_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    with db.write() as conn:
        booked = service.close_all(conn, ref)
        return {"ref": ref, "booked": booked, "count": service.get(conn, ref)}
