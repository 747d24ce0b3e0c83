"""`POST/GET /v1/channels`, `PUT /v1/channels/{name}` (admin).

POST creates a channel (409 if the name exists); PUT creates or replaces the named one."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from server.channels import orders, service
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
    "allocation_pct": 100,
    "locations": ["WH1-A-01"],
    "last_push_at": None,
    "pushes": 0,
    "pending": 3,
    "lag_s": 0.42,
    "settings": {},
    "failures": 0,
    "last_error": "",
    "orders_in": True,
    "oversells": 0,
    "last_pushed": {},
}


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["webhook", "shopify", "woocommerce", "shopee"] = "webhook"
    url: Url  # webhook: where pushes go; shopify, woocommerce: the shop
    # webhook: signing secret; shopify: Admin API token; woocommerce: ck_:cs_; shopee: partner key
    secret: Secret
    safety_stock: Quantity = 0
    # the share of available this channel sells
    allocation_pct: int = Field(100, ge=0, le=100, strict=True)
    locations: Literal["all"] | list[Identifier] = Field("all", min_length=1, max_length=10_000)
    settings: dict[str, str] = Field(default_factory=dict, max_length=10)
    # the secret the channel signs its order webhooks with (shopify: the app's client secret;
    # woocommerce: the webhook's secret; webhook: defaults to `secret`); never shown
    order_secret: Secret | None = None


class ChannelBody(ChannelSpec):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "webshop", **_SPEC}]}
    )
    name: Identifier


class ChannelReplace(ChannelSpec):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [_SPEC | {"safety_stock": 3, "locations": "all"}]},
    )
    name: Identifier | None = None  # optional in a PUT; must then equal the path's name


@router.post("/v1/channels", responses=example(_CHANNEL))
async def post_channel(body: ChannelBody, db: DbDep) -> dict[str, Any]:
    """Register a sales channel: a signed webhook, a Shopify shop (kind `shopify`, url the
    shop, secret its Admin API token, settings `location_id` and optional `api_version`), a
    WooCommerce shop (kind `woocommerce`, url the site, secret its REST key `ck_...:cs_...`) or
    a Shopee shop (kind `shopee`, url the API host, secret the partner key, settings
    `partner_id`, `shop_id`; then PUT its tokens), told each SKU's available stock, times
    `allocation_pct` (docs/channels.md).

    Available = on hand − reserved − `safety_stock` over `locations` ("all" or a list of
    location codes). Every SKU is queued for a first push (`pending`). 409 `channel exists`
    when the name is taken (PUT replaces)."""
    return await db.write(service.upsert, body.name, *_spec(body), replace=False, **_extra(body))


@router.put(
    "/v1/channels/{name}",
    responses=example(_CHANNEL | {"safety_stock": 3, "locations": "all"}),
)
async def put_channel(name: IdentifierPath, body: ChannelReplace, db: DbDep) -> dict[str, Any]:
    """Create the named channel or replace its settings; every SKU is pushed again.

    A `name` in the body must equal the path's (422 `name mismatch`)."""
    if body.name is not None and body.name != name:
        raise Refused("name mismatch", f"the body names {body.name!r}, the path {name!r}")
    return await db.write(service.upsert, name, *_spec(body), replace=True, **_extra(body))


def _spec(body: ChannelSpec) -> tuple[str, str, str, int, str | list[str]]:
    return body.kind, body.url, body.secret, body.safety_stock, body.locations


def _extra(body: ChannelSpec) -> dict[str, Any]:
    return {
        "settings": body.settings,
        "allocation_pct": body.allocation_pct,
        "order_secret": body.order_secret,  # None: a PUT keeps the one the channel has
    }


class SkuOverride(BaseModel):
    """A SKU's own settings on one channel; a field left out or null uses the channel's."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"safety_stock": 5, "max_qty": 20}]}
    )
    safety_stock: Quantity | None = None
    allocation_pct: int | None = Field(None, ge=0, le=100)
    max_qty: Quantity | None = None


_OVERRIDE = {"sku": "PHC-01", "safety_stock": 5, "allocation_pct": None, "max_qty": 20}


@router.put("/v1/channels/{name}/skus/{sku}", responses=example(_OVERRIDE))
async def put_sku_override(
    name: IdentifierPath, sku: IdentifierPath, body: SkuOverride, db: DbDep
) -> dict[str, Any]:
    """Give one SKU its own safety stock, allocation percentage or maximum on this channel
    (e.g. hold 5 phone cases back from the marketplace, list at most 20); the SKU is pushed
    again at once. Null or left out: the channel's own setting (no maximum)."""
    return await db.write(service.set_override, name, sku, body.model_dump())


@router.delete("/v1/channels/{name}/skus/{sku}", responses=example(_OVERRIDE | {
    "safety_stock": None, "max_qty": None}))  # fmt: skip
async def delete_sku_override(
    name: IdentifierPath, sku: IdentifierPath, db: DbDep
) -> dict[str, Any]:
    """Remove the SKU's override: the channel's own settings apply again."""
    return await db.write(service.set_override, name, sku, {})


class Tokens(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "access_token": "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d",
                    "refresh_token": "4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c",
                    "expires_in": 14400,
                }
            ]
        },
    )
    access_token: Secret
    refresh_token: Secret
    expires_in: int = Field(14400, ge=60, le=30 * 86400)


@router.put(
    "/v1/channels/{name}/tokens",
    responses=example({"channel": "shopee-sg", "expires_at": "2026-12-04T14:15:02Z"}),
)
async def put_tokens(name: IdentifierPath, body: Tokens, db: DbDep) -> dict[str, Any]:
    """Give a marketplace channel (shopee) the tokens its shop's authorization returned.

    Stockwire refreshes the access token from then on and keeps each new refresh token; they
    are never shown. Every SKU is pushed again."""
    return await db.write(
        service.set_tokens, name, body.access_token, body.refresh_token, body.expires_in
    )


_OVERSOLD = {
    "order": "shopify-eu:8209",
    "sku": "PHC-01",
    "qty": 3,
    "short": 1,
    "at": "2026-12-04T10:15:02.120Z",
}


@router.get("/v1/channels/{name}/oversells", responses=example({"oversells": [_OVERSOLD]}))
async def get_oversells(name: IdentifierPath, db: DbDep, limit: int = 100) -> dict[str, Any]:
    """The channel's oversold order lines, newest first: the order, SKU, quantity ordered and
    how many of those were not available when the order came in."""
    return {"oversells": await db.read(orders.list_oversells, name, min(max(limit, 1), 1000))}


@router.get("/v1/channels/{name}/skus", responses=example({"overrides": [_OVERRIDE]}))
async def get_sku_overrides(name: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """The channel's per-SKU overrides."""
    return {"overrides": await db.read(service.overrides, name)}


@router.get("/v1/channels", responses=example({"channels": [_CHANNEL]}))
async def get_channels(db: DbDep) -> dict[str, Any]:
    """Channels with their push state: last push, pushes, pending SKUs, failures, last error.

    The secrets are never shown."""
    return {"channels": await db.read(service.list_all)}
