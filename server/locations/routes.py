"""`POST/GET /v1/locations` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from server.deps import AdminOnly, DbDep, Reader
from server.locations import service
from server.validation import Identifier

router = APIRouter()


class LocationBody(BaseModel):
    code: Identifier
    parent: Identifier | None = None


@router.post("/v1/locations", dependencies=AdminOnly)
async def post_location(body: LocationBody, db: DbDep) -> dict[str, Any]:
    return await db.write(service.upsert, body.code, body.parent)


@router.get("/v1/locations", dependencies=Reader)
async def get_locations(db: DbDep, virtual: bool = False) -> dict[str, Any]:
    return {"locations": await db.read(service.list_all, include_virtual=virtual)}
