"""`POST /v1/movements` (clerk): a movement booked by hand, once per idempotency key.
`GET /v1/movements` (readers): the movement journal with filters."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Query, Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from server.deps import Clerk, DbDep, Reader
from server.errors import Refused
from server.movements import journal, service
from server.validation import (
    MAX_QTY,
    Identifier,
    IdentifierQuery,
    Limit,
    OrderQty,
    Text,
    UnitCost,
    check_text,
)

router = APIRouter()

IdempotencyKey = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_text)]
SignedQty = Annotated[int, Field(ge=-MAX_QTY, le=MAX_QTY)]
Condition = Literal["resellable", "damaged", "quarantine"]
Reason = Literal["damaged", "expired", "theft", "lost", "found", "correction"]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class _Movement(BaseModel):
    sku: Identifier
    lot: Text | None = None  # inbound: the lot; outbound: take this lot (else FEFO)
    at: AwareDatetime | None = None  # when it happened, if earlier than now
    idempotency_key: IdempotencyKey | None = None


class Receive(_Movement):
    """From the supplier into a bin; `ref` names the purchase order it counts against."""

    model_config = _examples(
        {
            "kind": "receive",
            "sku": "PHC-01",
            "qty": 24,
            "loc": "WH1-A-01",
            "ref": "PO-1042",
            "unit_cost": "2.10",
            "lot": "L2406",
            "expiry": "2027-06-30",
            "idempotency_key": "rcv-PO-1042-1",
        }
    )
    kind: Literal["receive"]
    qty: OrderQty
    loc: Identifier
    ref: Identifier | None = None
    unit_cost: UnitCost | None = None
    expiry: date | None = None


class Pick(_Movement):
    """From a bin to the customer."""

    model_config = _examples(
        {"kind": "pick", "sku": "PHC-01", "qty": 2, "loc": "WH1-A-01", "order": "SO-5531"}
    )
    kind: Literal["pick"]
    qty: OrderQty
    loc: Identifier
    order: Identifier | None = None


class Return(_Movement):
    """From the customer back into a bin (resellable) or into quarantine (damaged)."""

    model_config = _examples(
        {"kind": "return", "sku": "PHC-01", "qty": 1, "loc": "WH1-A-01", "ref": "SO-5531"},
        {"kind": "return", "sku": "PHC-01", "qty": 1, "condition": "damaged", "ref": "RMA-77"},
    )
    kind: Literal["return"]
    qty: OrderQty
    condition: Condition = "resellable"
    loc: Identifier | None = None  # the bin of a resellable return
    ref: Identifier | None = None
    expiry: date | None = None


class Transfer(_Movement):
    """From one bin to another, or into in-transit/<ref> with `via_transit`."""

    model_config = _examples(
        {"kind": "transfer", "sku": "PHC-01", "qty": 5, "from": "WH1-A-01", "to": "WH1-B-02"},
        {
            "kind": "transfer",
            "sku": "PHC-01",
            "qty": 5,
            "from": "WH1-A-01",
            "via_transit": True,
            "ref": "TR-9",
        },
    )
    kind: Literal["transfer"]
    qty: OrderQty
    from_: Identifier = Field(alias="from")
    to: Identifier | None = None
    via_transit: bool = False
    ref: Identifier | None = None


class TransferIn(_Movement):
    """From in-transit/<ref> into a bin."""

    model_config = _examples(
        {"kind": "transfer-in", "sku": "PHC-01", "qty": 5, "ref": "TR-9", "to": "WH2-A-01"}
    )
    kind: Literal["transfer-in"]
    qty: OrderQty
    ref: Identifier
    to: Identifier


class Adjustment(_Movement):
    """Between a bin and inventory-loss: qty < 0 takes stock away, qty > 0 adds it."""

    model_config = _examples(
        {"kind": "adjustment", "sku": "PHC-01", "qty": -2, "loc": "WH1-A-01", "reason": "damaged"},
        {
            "kind": "adjustment",
            "sku": "PHC-01",
            "qty": 1,
            "loc": "WH1-A-01",
            "reason": "found",
            "at": "2026-12-01T09:30:00Z",
        },
    )
    kind: Literal["adjustment"]
    qty: SignedQty
    loc: Identifier
    reason: Reason
    ref: Identifier | None = None
    expiry: date | None = None


MovementBody = Annotated[
    Receive | Pick | Return | Transfer | TransferIn | Adjustment, Field(discriminator="kind")
]

_ROW = {
    "id": 17,
    "sku": "PHC-01",
    "from": "supplier",
    "to": "WH1-A-01",
    "qty": 24,
    "lot": "L2406",
    "expiry": "2027-06-30",
    "serial": "",
    "kind": "receive",
    "ref": "PO-1042",
    "reason": "",
    "unit_cost": "2.1000",
    "event_id": None,
    "device_ts": None,
    "device_at": None,
    "gateway_ts": None,
    "gateway_at": None,
    "booked_at": "2026-12-03T10:15:02.412Z",
    "event_at": "2026-12-03T10:15:02.412Z",
    "clock": "",
    "flags": "",
}


def _manual(body: Receive | Pick | Return | Transfer | TransferIn | Adjustment) -> service.Manual:
    fields = body.model_dump(exclude={"idempotency_key"})
    ref = fields.get("ref") or fields.get("order") or ""
    return service.Manual(
        kind=body.kind,
        sku=body.sku,
        qty=body.qty,
        loc=fields.get("loc"),
        src=fields.get("from_"),
        dst=fields.get("to"),
        ref=ref,
        condition=fields.get("condition", ""),
        via_transit=fields.get("via_transit", False),
        reason=fields.get("reason", ""),
        unit_cost=fields.get("unit_cost"),
        lot=body.lot,
        expiry=fields.get("expiry"),
        at=body.at,
    )


def _fingerprint(body: BaseModel) -> str:
    doc = body.model_dump(mode="json", by_alias=True, exclude={"idempotency_key"})
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()


@router.post(
    "/v1/movements",
    dependencies=Clerk,
    summary="Book a movement by hand",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"movements": [_ROW], "idempotency_key": "rcv-PO-1042-1"}
                }
            }
        }
    },
)
async def post_movement(
    body: Annotated[MovementBody, Body()], db: DbDep, response: Response
) -> dict[str, Any]:
    """Book a receive, pick, return, transfer, transfer-in or adjustment and answer the
    movement rows written (several when the stock taken spans lots, FEFO). Every location
    named must be a bin. `at` backdates the event (not into the future). With an
    `idempotency_key`, a repeated request answers the first one's movements (header
    `Idempotent-Replayed: true`) and books nothing; the same key with a different body is 409
    `idempotency key reused`. Refusals (422): `insufficient stock`, `unknown location`,
    `no open transfer`, `unknown reference`, `not on purchase order`, `bad movement`,
    `bad time`; 404 `unknown sku`."""
    answer, replayed = await db.write(
        service.post, _manual(body), body.idempotency_key, _fingerprint(body)
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer


def _optional_text(value: str | None) -> str | None:
    return None if value is None else check_text(value)


LocQuery = Annotated[str | None, Query(min_length=1, max_length=64), AfterValidator(_optional_text)]
KindQuery = Annotated[str | None, Query(min_length=1, max_length=20)]


@router.get(
    "/v1/movements",
    dependencies=Reader,
    summary="The movement journal",
    responses={200: {"content": {"application/json": {"example": {"movements": [_ROW]}}}}},
)
async def get_movements(
    db: DbDep,
    sku: IdentifierQuery = None,
    loc: LocQuery = None,
    kind: KindQuery = None,
    ref: IdentifierQuery = None,
    flagged: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Movements, newest event first, matching every filter given: `sku`, `loc` (either
    end, e.g. `quarantine` or `in-transit/TR-9`), `kind` (receive, pick, return, transfer,
    transfer-out, transfer-in, adjustment, count, ...), `ref`, `flagged` (true: a clock flag
    or a booking flag such as `negative stock`; false: neither), `since` ≤ event time <
    `until` (ISO times; UTC when no offset is given), `limit`. Each row has the device,
    gateway, booking and event times, the clock flag, flags, reason and unit cost."""
    if since is not None and until is not None and journal.utc(since) > journal.utc(until):
        raise Refused("bad period", f"since {since.isoformat()} is after until {until.isoformat()}")
    found = journal.Filter(sku, loc, kind, ref, flagged, since, until, limit)
    return {"movements": await db.read(journal.search, found)}
