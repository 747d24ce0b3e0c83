"""`POST /v1/scan-batches` (gateway token) and `GET /v1/scan-events` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from server.deps import DbDep, GatewayDep, Reader
from server.ingest.service import list_events, process_batch
from server.openapi import example
from server.validation import EventStatus, IdentifierQuery, Limit

router = APIRouter()
MAX_BATCH_EVENTS = 10_000


_EVENT: dict[str, Any] = {
    "v": 1,
    "dev": "hs-07",
    "seq": 41,
    "boot": 1,
    "ts": 1796312366041,
    "code": "]C10119506000134359",
    "sym": "]C1",
    "mode": "receive",
    "qty": 2,
    "loc": "WH1-A-01",
    "ref": "",
    "site": "site1",
    "gw_ts": 1796312366141,
}
_RESULTS = [
    {"dev": "hs-07", "seq": 41, "status": "booked"},
    {
        "dev": "hs-07",
        "seq": 42,
        "status": "refused",
        "reason": "unknown barcode",
        "detail": "GTIN 04006381333931 is not in the catalog",
    },
    {"dev": "hs-07", "seq": 41, "status": "duplicate"},
]
_PROCESSED = {
    "id": 2,
    "event_id": "hs-07:42",
    "dev": "hs-07",
    "seq": 42,
    "gateway": "gw-1",
    "status": "refused",
    "reason": "unknown barcode",
    "detail": "GTIN 04006381333931 is not in the catalog",
    "mode": "receive",
    "loc": "WH1-A-01",
    "ref": "",
    "code": "]E04006381333931",
    "qty": 1,
    "processed_at": "2026-12-03T19:59:39.072Z",
}


class BatchIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "gateway": "gw-1",
                    "events": [
                        _EVENT,
                        _EVENT | {"seq": 42, "code": "]E04006381333931", "sym": "]E0", "qty": 1},
                        _EVENT,
                    ],
                }
            ]
        }
    )
    gateway: str = Field(max_length=64)
    events: list[Any] = Field(
        max_length=MAX_BATCH_EVENTS
    )  # validated one by one against stockwire.wire, so one bad event stays one


@router.post("/v1/scan-batches", responses=example({"results": _RESULTS}))
async def post_batch(body: BatchIn, db: DbDep, gateway: GatewayDep) -> dict[str, Any]:
    """Book a gateway's batch of scan events; one result per event, in order.

    One transaction with a savepoint per event: each event is `booked`, `refused` (with the
    protocol's reason; it is kept in the quarantine) or a `duplicate` of an event id (dev:seq)
    seen before, answered with the first outcome. Only the gateway named by the token may post
    (403 otherwise); a 503 means the database was unavailable and nothing was booked."""
    if body.gateway != gateway:
        raise HTTPException(403, f"this token belongs to gateway {gateway!r}, not {body.gateway!r}")
    results = await process_batch(db, gateway, body.events)
    return {"results": [r.to_json() for r in results]}


@router.get("/v1/scan-events", dependencies=Reader, responses=example({"events": [_PROCESSED]}))
async def get_events(
    db: DbDep,
    dev: IdentifierQuery = None,
    status: EventStatus | None = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Processed scan events with their outcome, the last `limit` of them, oldest first.

    Filter by device (`dev`) or outcome (`status=booked|refused`)."""
    return {"events": await db.read(list_events, dev, status, limit)}
