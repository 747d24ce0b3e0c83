"""Reservations (`/v1/reservations`), safety stock (`/v1/skus/{sku}/safety-stock`) and
availability (`/v1/availability`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from server.deps import AdminOnly, Clerk, DbDep, Reader
from server.reservations import availability, service
from server.validation import (
    Identifier,
    IdentifierPath,
    IdentifierQuery,
    Limit,
    OrderQty,
    Quantity,
)

router = APIRouter()

ReservationStatus = Literal["open", "cancelled", "consumed"]

_LINE = {
    "order": "SO-1001",
    "channel": "webshop",
    "sku": "PHC-01",
    "qty": 3,
    "reserved": 3,
    "consumed": 0,
    "short": 0,
    "status": "open",
    "locations": [{"loc": "WH1-A-01", "reserved": 3, "consumed": 0}],
    "created_at": "2026-12-03T10:15:00.000Z",
    "updated_at": "2026-12-03T10:15:00.000Z",
}
_ORDER = {"order": "SO-1001", "channel": "webshop", "status": "open", "lines": [_LINE]}


def _example(doc: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": doc}}}}


class ReservationLine(BaseModel):
    sku: Identifier
    qty: OrderQty
    loc: Identifier | None = None  # hold it here; else where the most is available


class ReservationBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order": "SO-1001",
                    "channel": "webshop",
                    "lines": [{"sku": "PHC-01", "qty": 3}, {"sku": "GUM-12", "qty": 2}],
                },
                {"order": "SO-1002", "lines": [{"sku": "PHC-01", "qty": 1, "loc": "WH1-A-02"}]},
            ]
        }
    )

    order: Identifier
    channel: Identifier | None = None
    lines: list[ReservationLine] = Field(min_length=1, max_length=10_000)


class CancelBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"sku": "PHC-01"}]})

    sku: Identifier | None = None  # one line; else the whole order


class SafetyStockBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"qty": 2}, {"qty": 5, "loc": "WH1-A-01"}]}
    )

    qty: Quantity
    loc: Identifier | None = None  # one real location; else the SKU-wide figure


@router.post(
    "/v1/reservations",
    dependencies=Clerk,
    responses=_example(_ORDER | {"replayed": False}),
)
async def post_reservation(body: ReservationBody, db: DbDep) -> dict[str, Any]:
    """Reserve stock for a channel order, all lines or none.

    Idempotent per order × SKU: sending the same order again returns the existing reservation
    (`replayed: true`) and reserves nothing more; another quantity for a reserved line is 409
    `reservation differs`. A line without `loc` is held where the most is available (it may
    split across locations; a registered channel's locations only). 422 `insufficient
    available` names the SKU, the quantity asked and what is available
    (on hand − reserved − safety stock).
    """
    lines = [service.LineIn(x.sku, x.qty, x.loc) for x in body.lines]
    return await db.write(service.create, body.order, body.channel or "", lines)


@router.post(
    "/v1/reservations/{order}/cancel",
    dependencies=Clerk,
    responses=_example(
        _ORDER
        | {
            "status": "cancelled",
            "lines": [_LINE | {"reserved": 0, "status": "cancelled", "locations": []}],
        }
    ),
)
async def cancel_reservation(
    order: IdentifierPath, db: DbDep, body: Annotated[CancelBody | None, Body()] = None
) -> dict[str, Any]:
    """Cancel an order's reservation (or one line of it) and release the stock it holds.

    Lines already consumed by picks stay consumed; cancelling a line that was picked in full is
    409 `reservation consumed`. Cancelling twice is harmless.
    """
    return await db.write(service.cancel, order, body.sku if body else None)


@router.get(
    "/v1/reservations",
    dependencies=Reader,
    responses=_example({"reservations": [_LINE]}),
)
async def get_reservations(
    db: DbDep,
    status: ReservationStatus | None = None,
    sku: IdentifierQuery = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    """Reservation lines, newest first, optionally of one status and one SKU."""
    return {"reservations": await db.read(service.list_lines, status, sku, limit)}


@router.get("/v1/reservations/{order}", dependencies=Reader, responses=_example(_ORDER))
async def get_reservation(order: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """One order's reservation: each line's quantity, what it holds where, what was picked."""
    return await db.read(service.get, order)


_SAFETY = {"sku": "PHC-01", "safety_stock": 2, "locations": {"WH1-A-01": 5}}


@router.put("/v1/skus/{sku}/safety-stock", dependencies=AdminOnly, responses=_example(_SAFETY))
async def put_safety_stock(sku: IdentifierPath, body: SafetyStockBody, db: DbDep) -> dict[str, Any]:
    """Set a SKU's safety stock, SKU-wide or (with `loc`) at one location.

    It is held back from `available` and from what every channel is told; channels showing the
    SKU are re-pushed. `qty: 0` with a `loc` removes that location's figure.
    """
    return await db.write(availability.set_safety_stock, sku, body.qty, body.loc)


@router.get("/v1/skus/{sku}/safety-stock", dependencies=Reader, responses=_example(_SAFETY))
async def get_safety_stock(sku: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """A SKU's safety stock: the SKU-wide figure and each location's."""
    return await db.read(availability.safety_stock_of, sku)


@router.get(
    "/v1/availability",
    dependencies=Reader,
    responses=_example(
        {
            "availability": [
                {
                    "sku": "PHC-01",
                    "on_hand": 10,
                    "reserved": 3,
                    "safety_stock": 3,
                    "sku_safety_stock": 1,
                    "available": 4,
                    "locations": [
                        {
                            "loc": "WH1-A-01",
                            "on_hand": 10,
                            "reserved": 3,
                            "safety_stock": 2,
                            "available": 5,
                        }
                    ],
                }
            ]
        }
    ),
)
async def get_availability(db: DbDep, sku: IdentifierQuery = None) -> dict[str, Any]:
    """What may be promised per SKU and per location: on hand − reserved − safety stock.

    A SKU's `safety_stock` is its SKU-wide figure (`sku_safety_stock`) plus each location's.
    Figures here may be negative (more promised or held back than there is); channels are told
    at least 0.
    """
    return {"availability": await db.read(availability.availability, sku)}
