"""`POST /v1/stocktakes`, `GET /v1/counts/{ref}`, `POST /v1/counts/{ref}/close` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from server.counts import service, stocktake
from server.deps import Clerk, DbDep, Reader
from server.validation import Identifier, IdentifierPath, Quantity

router = APIRouter()


class StocktakeLine(BaseModel):
    sku: Identifier
    loc: Identifier
    qty: Quantity


class StocktakeBody(BaseModel):
    ref: Identifier
    lines: list[StocktakeLine] = Field(max_length=100_000)


@router.post("/v1/stocktakes", dependencies=Clerk)
async def post_stocktake(body: StocktakeBody, db: DbDep) -> dict[str, Any]:
    lines = [(x.sku, x.loc, x.qty) for x in body.lines]
    return await db.write(stocktake.apply, body.ref, lines)


@router.get("/v1/counts/{ref}", dependencies=Reader)
async def get_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    return await db.read(service.get, ref)


@router.post("/v1/counts/{ref}/close", dependencies=Clerk)
async def close_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    def close(conn: Connection) -> dict[str, Any]:
        booked = service.close_all(conn, ref)
        return {"ref": ref, "booked": booked, "count": service.get(conn, ref)}

    return await db.write(close)
