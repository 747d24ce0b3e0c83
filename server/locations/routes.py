"""`POST/GET /v1/locations` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from server.deps import Admin, DbDep
from server.locations import service
from server.validation import Identifier

router = APIRouter(dependencies=Admin)


class LocationBody(BaseModel):
    code: Identifier
    parent: Identifier | None = None


@router.post("/v1/locations")
def post_location(body: LocationBody, db: DbDep) -> dict[str, Any]:
    with db.write() as conn:
        return service.upsert(conn, body.code, body.parent)


@router.get("/v1/locations")
def get_locations(db: DbDep, virtual: bool = False) -> dict[str, Any]:
    with db.read() as conn:
        return {"locations": service.list_all(conn, include_virtual=virtual)}
