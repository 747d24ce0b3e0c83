"""`GET /v1/quarantine` and `POST /v1/quarantine/{id}/replay` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from server.deps import AdminOnly, Clerk, DbDep, Reader
from server.openapi import example
from server.quarantine.service import list_all, map_code, replay
from server.validation import Identifier, IdPath, Multiplier, QuarantineStatus

router = APIRouter()
_ENTRY = {
    "id": 1,
    "event_id": "hs-07:42",
    "dev": "hs-07",
    "seq": 42,
    "gateway": "gw-1",
    "code": "]E04006381333931",
    "mode": "receive",
    "loc": "WH1-A-01",
    "ref": "",
    "qty": 1,
    "reason": "unknown barcode",
    "detail": "GTIN 04006381333931 is not in the catalog",
    "status": "open",
    "attempts": 1,
    "created_at": "2026-12-03T19:59:39.073Z",
    "replayed_at": None,
}


@router.get("/v1/quarantine", dependencies=Reader, responses=example({"entries": [_ENTRY]}))
async def get_quarantine(db: DbDep, status: QuarantineStatus | None = None) -> dict[str, Any]:
    """Refused scan events kept with their raw bytes, oldest first (`?status=open|replayed`).

    Every refusal lands here with its reason and detail: an unknown or unparseable barcode, an
    unknown location, insufficient stock, a malformed event."""
    return {"entries": await db.read(list_all, status)}


_REPLAYED = _ENTRY | {
    "status": "replayed",
    "attempts": 2,
    "replayed_at": "2026-12-03T19:59:39.207Z",
}


@router.post("/v1/quarantine/{qid}/replay", dependencies=Clerk, responses=example(_REPLAYED))
async def post_replay(qid: IdPath, db: DbDep) -> dict[str, Any]:
    """Book a quarantined event again, once its cause is fixed (a GTIN added, a bin created).

    Booked: the entry becomes `replayed`. Refused again: it stays `open` with `attempts` counted
    up. 409 `already replayed` for an entry that was."""
    return await db.write(replay, qid)


class MapBody(BaseModel):
    """The SKU an unknown GTIN belongs to, and how many units one read of it is."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"sku": "PHC-01", "multiplier": 1}]})
    sku: Identifier
    multiplier: Multiplier = 1


@router.post(
    "/v1/quarantine/{qid}/map",
    dependencies=AdminOnly,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "gtin14": "04006381333931",
                        "sku": "PEN-01",
                        "multiplier": 1,
                        "replayed": [{"id": 7, "status": "replayed", "reason": "unknown barcode"}],
                    }
                }
            }
        }
    },
)
async def post_map(qid: IdPath, body: MapBody, db: DbDep) -> dict[str, Any]:
    """Map an unknown barcode to a SKU and replay every open entry refused for it (admin:
    it adds a GTIN to the catalog, as `POST /v1/skus/{sku}/gtins` does).

    Adds the entry's GTIN to the SKU (with the multiplier: 12 for a case of 12), then replays
    this entry and every other open `unknown barcode` entry with the same GTIN-14."""
    return await db.write(map_code, qid, body.sku, body.multiplier)
