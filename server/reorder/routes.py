"""`GET /v1/reorder-alerts`, `PUT /v1/skus/{sku}/reorder` (admin), `GET /v1/skus/{sku}/reorder`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from server.deps import AdminOnly, DbDep, Reader
from server.reorder import service
from server.validation import Identifier, IdentifierPath, Quantity

router = APIRouter()

_ALERT = {
    "id": 1,
    "sku": "CLN-200",
    "loc": None,
    "available": 30,
    "reorder_point": 30,
    "suggested_qty": 100,
    "raised_at": "2026-03-02T09:14:03.120Z",
    "closed_at": None,
    "closed_reason": None,
    "po": "RO-CLN-200-1",
    "po_status": "draft",
    "note": "",
}
_RULES = {
    "sku": "CLN-200",
    "rules": [
        {"loc": None, "point": 30, "qty": 100},
        {"loc": "WH2-A-01", "point": 5, "qty": 20},
    ],
    "alerts": [_ALERT],
}


class ReorderBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"point": 30, "qty": 100},
                {"point": 5, "qty": 20, "loc": "WH2-A-01"},
                {"point": None, "loc": "WH2-A-01"},
            ]
        }
    )
    point: Quantity | None  # None removes the rule
    qty: Quantity | None = None
    loc: Identifier | None = None  # None: the SKU-wide rule


@router.get(
    "/v1/reorder-alerts",
    dependencies=Reader,
    responses={200: {"content": {"application/json": {"example": {"alerts": [_ALERT]}}}}},
)
async def get_alerts(
    db: DbDep, include_closed: Annotated[bool, Query(alias="all")] = False
) -> dict[str, Any]:
    """List reorder alerts.

    The open alerts, oldest first; `?all=1` adds the closed ones with why they closed
    (`received`, `recovered`, `rule removed`). Each names its rule (`loc` null: the SKU-wide
    one) and the draft purchase order it raised (`po`, `po_status`), or a `note` why none."""
    return {"alerts": await db.read(service.alerts, include_closed)}


@router.put(
    "/v1/skus/{sku}/reorder",
    dependencies=AdminOnly,
    responses={200: {"content": {"application/json": {"example": _RULES}}}},
)
async def put_reorder(sku: IdentifierPath, body: ReorderBody, db: DbDep) -> dict[str, Any]:
    """Set a SKU's reorder point.

    Without `loc`, the SKU-wide rule (available over all real locations, the SKU's
    reorder_point/reorder_qty); with `loc`, the rule for that location and everything under
    it. `point: null` removes the rule (its open alert closes as `rule removed`). The SKU is
    evaluated at once, so a point at or above the stock raises its alert now."""
    return await db.write(service.set_rule, sku, body.point, body.qty, body.loc)


@router.get(
    "/v1/skus/{sku}/reorder",
    dependencies=Reader,
    responses={200: {"content": {"application/json": {"example": _RULES}}}},
)
async def get_reorder(sku: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """A SKU's reorder rules.

    The SKU-wide rule (loc null) and the location rules, with the SKU's open alerts."""
    return await db.read(service.rules_of, sku)
