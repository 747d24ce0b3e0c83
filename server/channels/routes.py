"""`POST/GET /v1/channels`, `PUT /v1/channels/{name}` (admin).

POST creates a channel (409 if the name exists); PUT creates or replaces the named one."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.channels import service
from server.deps import AdminOnly, DbDep
from server.errors import Refused
from server.validation import Identifier, IdentifierPath, Quantity, Secret, Url

router = APIRouter(dependencies=AdminOnly)


class ChannelSpec(BaseModel):
    kind: Literal["webhook"] = "webhook"
    url: Url
    secret: Secret
    safety_stock: Quantity = 0
    locations: Literal["all"] | list[Identifier] = Field("all", max_length=10_000)


class ChannelBody(ChannelSpec):
    name: Identifier


class ChannelReplace(ChannelSpec):
    name: Identifier | None = None  # optional in a PUT; must then equal the path's name


@router.post("/v1/channels")
async def post_channel(body: ChannelBody, db: DbDep) -> dict[str, Any]:
    return await db.write(service.upsert, body.name, *_spec(body), replace=False)


@router.put("/v1/channels/{name}")
async def put_channel(name: IdentifierPath, body: ChannelReplace, db: DbDep) -> dict[str, Any]:
    if body.name is not None and body.name != name:
        raise Refused("name mismatch", f"the body names {body.name!r}, the path {name!r}")
    return await db.write(service.upsert, name, *_spec(body), replace=True)


def _spec(body: ChannelSpec) -> tuple[str, str, str, int, str | list[str]]:
    return body.kind, body.url, body.secret, body.safety_stock, body.locations


@router.get("/v1/channels")
async def get_channels(db: DbDep) -> dict[str, Any]:
    return {"channels": await db.read(service.list_all)}
