"""`POST/GET /v1/channels` (admin)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.channels import service
from server.deps import Admin, DbDep

router = APIRouter(dependencies=Admin)


class ChannelBody(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["webhook"] = "webhook"
    url: str
    secret: str = Field(min_length=16)
    safety_stock: int = Field(0, ge=0)
    locations: Literal["all"] | list[str] = "all"


@router.post("/v1/channels")
def post_channel(body: ChannelBody, db: DbDep) -> dict[str, Any]:
    with db.write() as conn:
        return service.upsert(
            conn, body.name, body.kind, body.url, body.secret, body.safety_stock, body.locations
        )


@router.get("/v1/channels")
def get_channels(db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        return {"channels": service.list_all(conn)}
