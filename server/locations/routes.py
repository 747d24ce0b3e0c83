"""`POST /v1/locations`, `PUT /v1/locations/{code}` (admin), `GET /v1/locations` and
`GET /v1/locations/tree` (readers)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from server.deps import AdminOnly, DbDep, Reader
from server.locations import service, tree
from server.validation import Identifier, IdentifierPath, IdentifierQuery

router = APIRouter()

Kind = Literal["site", "warehouse", "zone", "bin"]
Policy = Literal["refuse", "allow"]

_LOCATION = {
    "code": "WH1-A-01",
    "parent": "WH1-A",
    "kind": "bin",
    "virtual": False,
    "negative": "refuse",
}


class LocationBody(BaseModel):
    """A location as a whole: created, or replaced when the code exists."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"code": "SITE1", "kind": "site"},
                {"code": "WH1", "kind": "warehouse", "parent": "SITE1"},
                {"code": "WH1-A", "kind": "zone", "parent": "WH1"},
                {"code": "WH1-A-01", "parent": "WH1-A"},
                {"code": "RETURNS-01", "parent": "WH1", "negative": "allow"},
            ]
        }
    )

    code: Identifier
    parent: Identifier | None = None
    kind: Kind = "bin"
    negative: Policy = "refuse"


class LocationChange(BaseModel):
    """Only the fields sent change; `"parent": null` detaches a bin (or a site) from its parent."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"negative": "allow"},
                {"parent": "WH1-B"},
                {"kind": "zone", "parent": "WH1"},
                {"parent": None},
            ]
        },
    )

    kind: Kind | None = None
    parent: Identifier | None = None
    negative: Policy | None = None


@router.post(
    "/v1/locations",
    dependencies=AdminOnly,
    summary="Create or replace a location",
    responses={200: {"content": {"application/json": {"example": _LOCATION}}}},
)
async def post_location(body: LocationBody, db: DbDep) -> dict[str, Any]:
    """Create a location, or replace an existing one's kind, parent and negative-stock policy
    with the body's (omitted fields take their defaults: a bin, no parent, `refuse`). The tree
    is enforced: a site has no parent, a warehouse goes under a site, a zone under a warehouse,
    a bin under a zone or a warehouse or nowhere. 422 `bad parent` / `bad kind` /
    `unknown location` name the rule broken; 409 `location holds stock` when a bin with stock
    would become something else, `negative stock` when `refuse` is asked of a location whose
    on hand is below zero."""
    return await db.write(
        service.upsert, body.code, body.parent, kind=body.kind, negative=body.negative
    )


@router.put(
    "/v1/locations/{code}",
    dependencies=AdminOnly,
    summary="Change a location's policy, kind or parent",
    responses={
        200: {"content": {"application/json": {"example": _LOCATION | {"negative": "allow"}}}}
    },
)
async def put_location(code: IdentifierPath, body: LocationChange, db: DbDep) -> dict[str, Any]:
    """Change the fields sent: `negative` (`refuse`: a movement that would take on hand below
    zero here is refused; `allow`: it is booked and flagged `negative stock`), `kind`, `parent`
    (null detaches). The same tree rules as POST, and no location under itself (a cycle).
    404 for an unknown location, 409 for a virtual one."""
    return await db.write(service.update, code, body.model_dump(exclude_unset=True))


@router.get(
    "/v1/locations",
    dependencies=Reader,
    summary="List locations",
    responses={200: {"content": {"application/json": {"example": {"locations": [_LOCATION]}}}}},
)
async def get_locations(db: DbDep, virtual: bool = False) -> dict[str, Any]:
    """Every real location (and the virtual ones with `virtual=true`) with its parent, kind and
    negative-stock policy, by code."""
    return {"locations": await db.read(service.list_all, include_virtual=virtual)}


_TREE_EXAMPLE = {
    "tree": [
        {
            "code": "SITE1",
            "kind": "site",
            "virtual": False,
            "negative": "refuse",
            "on_hand": 7,
            "stock": {"CLN-200": 2, "PHC-01": 5},
            "children": [
                {
                    "code": "WH1",
                    "kind": "warehouse",
                    "virtual": False,
                    "negative": "refuse",
                    "on_hand": 7,
                    "stock": {"CLN-200": 2, "PHC-01": 5},
                    "children": [],
                }
            ],
        }
    ]
}


@router.get(
    "/v1/locations/tree",
    dependencies=Reader,
    summary="The location tree with on hand rolled up",
    responses={200: {"content": {"application/json": {"example": _TREE_EXAMPLE}}}},
)
async def get_tree(db: DbDep, virtual: bool = False, sku: IdentifierQuery = None) -> dict[str, Any]:
    """Sites (and bins without a parent) as roots, each node with its children and the on hand
    of itself plus everything under it: `on_hand` in total and `stock` per SKU (zeros left
    out). `sku` restricts the figures to one SKU; `virtual=true` adds the virtual locations
    (supplier and customer run negative: they are the other side of receipts and sales)."""
    return {"tree": await db.read(tree.tree, include_virtual=virtual, sku=sku)}
