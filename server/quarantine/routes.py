"""`GET /v1/quarantine` and `POST /v1/quarantine/{id}/replay` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.deps import Clerk, DbDep, Reader
from server.quarantine.service import list_all, replay
from server.validation import IdPath, QuarantineStatus

router = APIRouter()


@router.get("/v1/quarantine", dependencies=Reader)
async def get_quarantine(db: DbDep, status: QuarantineStatus | None = None) -> dict[str, Any]:
    return {"entries": await db.read(list_all, status)}


@router.post("/v1/quarantine/{qid}/replay", dependencies=Clerk)
async def post_replay(qid: IdPath, db: DbDep) -> dict[str, Any]:
    return await db.write(replay, qid)
