"""`POST /v1/scan-batches` (gateway token) and `GET /v1/scan-events` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from server.deps import DbDep, GatewayDep, Reader
from server.ingest.service import list_events, process_batch
from server.validation import EventStatus, IdentifierQuery, Limit

router = APIRouter()
MAX_BATCH_EVENTS = 10_000


class BatchIn(BaseModel):
    gateway: str = Field(max_length=64)
    events: list[Any] = Field(
        max_length=MAX_BATCH_EVENTS
    )  # validated one by one against stockwire.wire, so one bad event stays one


@router.post("/v1/scan-batches")
async def post_batch(body: BatchIn, db: DbDep, gateway: GatewayDep) -> dict[str, Any]:
    if body.gateway != gateway:
        raise HTTPException(403, f"this token belongs to gateway {gateway!r}, not {body.gateway!r}")
    results = await process_batch(db, gateway, body.events)
    return {"results": [r.to_json() for r in results]}


@router.get("/v1/scan-events", dependencies=Reader)
async def get_events(
    db: DbDep,
    dev: IdentifierQuery = None,
    status: EventStatus | None = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    return {"events": await db.read(list_events, dev, status, limit)}
