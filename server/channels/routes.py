"""`POST/GET /v1/channels`, `PUT /v1/channels/{name}` (admin).

POST creates a channel (409 if the name exists); PUT creates or replaces the named one."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from server.channels import service
from server.deps import AdminOnly, DbDep
from server.errors import Refused
from server.openapi import example
from server.validation import Identifier, IdentifierPath, Quantity, Secret, Url

router = APIRouter(dependencies=AdminOnly)
_SPEC: dict[str, Any] = {
    "url": "https://shop.example.com/hooks/stock",
    "secret": "whsec_4f9a1c7e2b8d6a30",
    "safety_stock": 2,
    "locations": ["WH1-A-01"],
}
_CHANNEL = {
    "name": "webshop",
    "kind": "webhook",
    "url": "https://shop.example.com/hooks/stock",
    "safety_stock": 2,
    "locations": ["WH1-A-01"],
    "last_push_at": None,
    "pushes": 0,
    "pending": 3,
    "lag_s": 0.42,
    "settings": {},
    "failures": 0,
    "last_error": "",
    "last_pushed": {},
}


class ChannelSpec(BaseModel):
    kind: Literal["webhook", "shopify", "woocommerce"] = "webhook"
    url: Url  # webhook: where pushes go; shopify, woocommerce: the shop
    secret: Secret  # webhook: signing secret; shopify: Admin API token; woocommerce: ck_:cs_
    safety_stock: Quantity = 0
    locations: Literal["all"] | list[Identifier] = Field("all", max_length=10_000)
    settings: dict[str, str] = Field(default_factory=dict, max_length=10)


class ChannelBody(ChannelSpec):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "webshop", **_SPEC}]})
    name: Identifier


class ChannelReplace(ChannelSpec):
    model_config = ConfigDict(
        json_schema_extra={"examples": [_SPEC | {"safety_stock": 3, "locations": "all"}]}
    )
    name: Identifier | None = None  # optional in a PUT; must then equal the path's name


@router.post("/v1/channels", responses=example(_CHANNEL))
async def post_channel(body: ChannelBody, db: DbDep) -> dict[str, Any]:
    """Register a sales channel: a signed webhook, a Shopify shop (kind `shopify`, url the
    shop, secret its Admin API token, settings `location_id` and optional `api_version`) or a
    WooCommerce shop (kind `woocommerce`, url the site, secret its REST key `ck_...:cs_...`),
    told each SKU's available stock (docs/channels.md).

    Available = on hand − reserved − `safety_stock` over `locations` ("all" or a list of
    location codes). Every SKU is queued for a first push (`pending`). 409 `channel exists`
    when the name is taken (PUT replaces)."""
    return await db.write(
        service.upsert, body.name, *_spec(body), replace=False, settings=body.settings
    )


@router.put(
    "/v1/channels/{name}",
    responses=example(_CHANNEL | {"safety_stock": 3, "locations": "all"}),
)
async def put_channel(name: IdentifierPath, body: ChannelReplace, db: DbDep) -> dict[str, Any]:
    """Create the named channel or replace its settings; every SKU is pushed again.

    A `name` in the body must equal the path's (422 `name mismatch`)."""
    if body.name is not None and body.name != name:
        raise Refused("name mismatch", f"the body names {body.name!r}, the path {name!r}")
    return await db.write(service.upsert, name, *_spec(body), replace=True, settings=body.settings)


def _spec(body: ChannelSpec) -> tuple[str, str, str, int, str | list[str]]:
    return body.kind, body.url, body.secret, body.safety_stock, body.locations


@router.get("/v1/channels", responses=example({"channels": [_CHANNEL]}))
async def get_channels(db: DbDep) -> dict[str, Any]:
    """Channels with their push state: last push, pushes, pending SKUs, failures, last error.

    The secrets are never shown."""
    return {"channels": await db.read(service.list_all)}
